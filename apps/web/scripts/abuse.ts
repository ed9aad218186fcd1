/**
 * Hostile-client suite against a running demo server: oversized bodies (with and without Content-Length),
 * decompression bombs (a 4096² all-zero PNG, a 50,000² header, four bombs at once), truncated PNG / JPEG, other
 * formats, empty and missing fields, path-like model ids, malformed numbers, wrong methods, and a client that
 * sends one header line a second. Each case must get its 4xx (or a closed connection for the slow client) with
 * a one-line JSON error; then the server's RSS after the whole suite is compared with its warmed-up RSS.
 *
 *   WEB_DIAGNOSTICS=1 npx nx run web:start      # in another terminal (RSS is read from /api/models)
 *   npx nx run web:abuse -- --url http://localhost:3000 [--slow-seconds 75] [--out docs/results/web-abuse.json]
 */
import net from 'node:net';
import { pngHeader } from './png-header';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { makeShapesImage, SHAPES_SIZE } from '@cv/data';
import { writeFileAtomic } from '@cv/engine';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 3000}` },
    'slow-seconds': { type: 'string', default: '75' },
    out: { type: 'string' },
  },
});
const base = new URL(args.url!);
const slowSeconds = Number(args['slow-seconds']);

type Diagnostics = { rssBytes: number; heapUsedBytes?: number; wasmHeapBytes?: number | null };
let lastDiagnostics: Diagnostics | null = null;
async function rss(): Promise<number> {
  const res = await fetch(new URL('/api/models', base)).catch((e: Error) => {
    console.error(`no demo server at ${base.origin} (${e.message}); start it with WEB_DIAGNOSTICS=1 npx nx run web:start, or pass --url`);
    process.exit(2);
  });
  const body = (await res.json()) as { diagnostics?: { rssBytes: number; heapUsedBytes?: number; wasmHeapBytes?: number | null } };
  lastDiagnostics = body.diagnostics ?? null;
  if (!body.diagnostics) {
    console.error(`${base.origin} does not report its memory; start it with WEB_DIAGNOSTICS=1 npx nx run web:start`);
    process.exit(2);
  }
  return body.diagnostics.rssBytes;
}

/** A real 4096² all-zero PNG: 16 KB on the wire, 16.7 M pixels once decoded. */
const bomb4096 = pngHeader(4096, 4096, { idatBytes: 4096 * 4097 });

const scene = makeShapesImage(21, 0);
const good = await sharp(Buffer.from(scene.pixels), { raw: { width: SHAPES_SIZE, height: SHAPES_SIZE, channels: 3 } })
  .png()
  .toBuffer();
const jpeg = await sharp(Buffer.from(scene.pixels), { raw: { width: SHAPES_SIZE, height: SHAPES_SIZE, channels: 3 } })
  .jpeg()
  .toBuffer();
const formats: Record<string, Buffer> = {
  gif: await sharp(good).gif().toBuffer(),
  tiff: await sharp(good).tiff().toBuffer(),
  avif: await sharp(good).avif().toBuffer(),
  svg: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'),
};

function form(image: Buffer | null, fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  if (image) f.set('image', new Blob([new Uint8Array(image)]), 'x.png');
  for (const [k, v] of Object.entries(fields)) f.set(k, v);
  return f;
}

interface Case {
  name: string;
  expect: number;
  status: number;
  oneLineJson: boolean;
  ms: number;
}
const results: Case[] = [];

async function check(name: string, expect: number, send: () => Promise<Response>): Promise<void> {
  const t0 = performance.now();
  let status = 0;
  let oneLineJson = false;
  try {
    const res = await send();
    status = res.status;
    const text = await res.text();
    try {
      const body = JSON.parse(text) as { error?: string };
      // A refusal: exactly {"error": "<one line>"}; an answer: JSON without "error".
      oneLineJson = expect < 400 ? body.error === undefined : typeof body.error === 'string' && !body.error.includes('\n') && Object.keys(body).length === 1;
    } catch {
      oneLineJson = false;
    }
  } catch (e) {
    status = -1;
    console.error(`  ${name}: ${(e as Error).message}`);
  }
  const c = { name, expect, status, oneLineJson, ms: performance.now() - t0 };
  results.push(c);
  console.log(
    `${status === expect && oneLineJson ? 'ok  ' : 'FAIL'} ${name}: ${status} (want ${expect})${oneLineJson ? '' : expect < 400 ? ', not a JSON answer' : ', not a one-line JSON error'}`,
  );
}

const post = (path: string, body: FormData) => fetch(new URL(path, base), { method: 'POST', body });

/** A body streamed in 1 MB chunks without Content-Length (Transfer-Encoding: chunked). */
function chunked(path: string, megabytes: number): Promise<Response> {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent++ >= megabytes) c.close();
      else c.enqueue(new Uint8Array(1048576).fill(65));
    },
  });
  return fetch(new URL(path, base), {
    method: 'POST',
    body: stream,
    headers: { 'content-type': 'multipart/form-data; boundary=x' },
    duplex: 'half',
  } as RequestInit);
}

/** Sends one header line a second; the seconds until the server closed the connection (Infinity if it never did). */
function slowHeaders(seconds: number): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = net.connect(Number(base.port || 80), base.hostname);
    let n = 0;
    const timer = setInterval(() => {
      if (socket.destroyed) return;
      socket.write(n++ === 0 ? 'POST /api/detect HTTP/1.1\r\nHost: x\r\n' : `X-Slow-${n}: ${'a'.repeat(10)}\r\n`);
      if ((performance.now() - t0) / 1000 > seconds) {
        clearInterval(timer);
        socket.destroy();
        resolve(Infinity);
      }
    }, 1000);
    socket.on('close', () => {
      clearInterval(timer);
      resolve((performance.now() - t0) / 1000);
    });
    socket.on('error', () => undefined);
  });
}

// Warm-up as users use it (shapes scenes and 640×480 photos, every task), then the RSS the suite is compared with.
const photo = await sharp(good).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
for (let i = 0; i < 3; i++)
  for (const task of ['classify', 'detect', 'segment']) for (const image of [good, photo]) await post(`/api/${task}`, form(image)).then((r) => r.arrayBuffer());
const warm = await rss();
const warmParts = lastDiagnostics as Diagnostics | null;

await check('chunked 30 MB body, no Content-Length', 413, () => chunked('/api/detect', 30));
await check('chunked 100 MB body, no Content-Length', 413, () => chunked('/api/detect', 100));
await check('Content-Length 100 MB', 413, () =>
  fetch(new URL('/api/detect', base), { method: 'POST', body: new Uint8Array(11 * 1048576), headers: { 'content-type': 'multipart/form-data; boundary=x' } }),
);
await check('4096² all-zero PNG (16 KB)', 200, () => post('/api/detect', form(bomb4096)));
await check('50,000² PNG header', 413, () => post('/api/detect', form(pngHeader(50000, 50000))));
const four = await Promise.all(Array.from({ length: 4 }, () => post('/api/segment', form(bomb4096))));
results.push({
  name: '4 bombs at once (segment)',
  expect: 200,
  status: four.every((r) => r.status === 200) ? 200 : four.find((r) => r.status !== 200)!.status,
  oneLineJson: true,
  ms: 0,
});
await Promise.all(four.map((r) => r.arrayBuffer()));
console.log(`${four.every((r) => r.status === 200) ? 'ok  ' : 'FAIL'} 4 bombs at once: ${four.map((r) => r.status).join(', ')}`);
await check('truncated PNG', 415, () => post('/api/detect', form(good.subarray(0, good.length >> 1))));
await check('truncated JPEG', 415, () => post('/api/detect', form(jpeg.subarray(0, jpeg.length >> 1))));
for (const [name, bytes] of Object.entries(formats)) await check(`${name.toUpperCase()} upload`, 415, () => post('/api/classify', form(bytes)));
await check('empty image field', 400, () => post('/api/classify', form(Buffer.alloc(0))));
await check("no 'image' field", 400, () => post('/api/classify', form(null, { picture: 'x' })));
await check('not a multipart body', 400, () =>
  fetch(new URL('/api/detect', base), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }),
);
await check("model id '../../etc/passwd'", 404, () => post('/api/detect', form(good, { model: '../../etc/passwd' })));
await check('conf=0x1', 400, () => post('/api/detect', form(good, { conf: '0x1' })));
await check('conf=2', 400, () => post('/api/detect', form(good, { conf: '2' })));
await check('maxDet=2.5', 400, () => post('/api/detect', form(good, { maxDet: '2.5' })));
await check('generate n=1.5', 400, () => fetch(new URL('/api/generate?n=1.5', base)));
await check('generate seed=-5', 400, () => fetch(new URL('/api/generate?seed=-5', base)));
for (const [method, path] of [
  ['GET', '/api/detect'],
  ['PUT', '/api/classify'],
  ['DELETE', '/api/segment'],
  ['POST', '/api/generate'],
] as const) {
  await check(`${method} ${path}`, 405, () => fetch(new URL(path, base), { method }));
}
const slow = await slowHeaders(slowSeconds);
console.log(
  `${Number.isFinite(slow) ? 'ok  ' : 'FAIL'} one header line a second: ${Number.isFinite(slow) ? `closed after ${slow.toFixed(0)} s` : `still open after ${slowSeconds} s`}`,
);
const healthy = (await fetch(new URL('/api/health', base))).status === 200;
await new Promise((r) => setTimeout(r, 3000));
const after = await rss();
const afterParts = lastDiagnostics as Diagnostics | null;

const failed = results.filter((r) => r.status !== r.expect || !r.oneLineJson);
const report = {
  url: base.origin,
  date: new Date().toISOString(),
  cases: results,
  failed: failed.map((f) => f.name),
  slowHeadersClosedAfterSeconds: Number.isFinite(slow) ? slow : null,
  healthyAfter: healthy,
  rssMb: { warm: warm / 1048576, after: after / 1048576, ratio: after / warm },
  /** Parts of it: V8's heap in use and tfjs-wasm's heap (which never shrinks), warm and after. */
  partsMb: {
    jsHeap: [warmParts?.heapUsedBytes, afterParts?.heapUsedBytes].map((b) => (b ?? NaN) / 1048576),
    wasmHeap: [warmParts?.wasmHeapBytes, afterParts?.wasmHeapBytes].map((b) => (b ?? NaN) / 1048576),
  },
};
console.log(
  `\n${results.length - failed.length}/${results.length} cases as expected; healthy after: ${healthy}; RSS warm ${report.rssMb.warm.toFixed(0)} MB → after ${report.rssMb.after.toFixed(0)} MB (×${report.rssMb.ratio.toFixed(2)}); JS heap ${report.partsMb.jsHeap.map((v) => v.toFixed(0)).join(' → ')} MB, tfjs-wasm heap ${report.partsMb.wasmHeap.map((v) => v.toFixed(0)).join(' → ')} MB`,
);
if (args.out) writeFileAtomic(args.out, JSON.stringify(report, null, 2) + '\n');
if (failed.length || !healthy) process.exitCode = 1;
