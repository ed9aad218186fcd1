/**
 * Load test of a running demo server: 640×480 JPEG uploads, mixed tasks (classify / detect / segment), N
 * concurrent × R rounds; then p50 / p95 latency per task, errors, server RSS before and after. First, the
 * latency of single requests one at a time (the server's own time from its Server-Timing header, and the
 * round trip). A warm-up round at full concurrency comes before the counted ones (see below).
 *
 *   WEB_DIAGNOSTICS=1 npx nx run web:start            # in another terminal (the server then reports its RSS)
 *   npx nx run web:load -- --url http://localhost:3000 --concurrency 20 --rounds 10 --out docs/results/web-load.json
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { makeShapesImage, SHAPES_SIZE } from '@cv/data';
import { writeFileAtomic } from '@cv/engine';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 3000}` },
    concurrency: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '10' },
    serial: { type: 'string', default: '30' },
    'warmup-rounds': { type: 'string', default: '3' },
    tasks: { type: 'string', default: 'classify,detect,segment' },
    out: { type: 'string' },
  },
});
const base = args.url!.replace(/\/$/, '');
const concurrency = Number(args.concurrency);
const rounds = Number(args.rounds);
const serial = Number(args.serial);
const warmupRounds = Number(args['warmup-rounds']);
for (const [k, v] of Object.entries({ concurrency, rounds, serial, 'warmup-rounds': warmupRounds + 1 }))
  if (!Number.isInteger(v) || v < 1) {
    console.error(`--${k} must be a positive integer`);
    process.exit(2);
  }

const ALL_TASKS = ['classify', 'detect', 'segment'] as const;
type Task = (typeof ALL_TASKS)[number];
const TASKS = args.tasks!.split(',').map((t) => t.trim()) as Task[];
for (const t of TASKS)
  if (!ALL_TASKS.includes(t)) {
    console.error(`--tasks: '${t}' is not one of ${ALL_TASKS.join(', ')}`);
    process.exit(2);
  }

interface ServerMemory {
  rssBytes: number;
  heapUsedBytes: number;
  tensors: { count: number; bytes: number };
}

async function memory(): Promise<ServerMemory> {
  const res = await fetch(`${base}/api/models`).catch((e: Error) => {
    console.error(`no demo server at ${base} (${e.message}); start it with npx nx run web:start, or pass --url`);
    process.exit(2);
  });
  const body = (await res.json()) as { diagnostics?: ServerMemory };
  if (!body.diagnostics) {
    console.error(`${base} does not report its memory; start it with WEB_DIAGNOSTICS=1 npx nx run web:start`);
    process.exit(2);
  }
  return body.diagnostics;
}

const scene = makeShapesImage(21, 0);
const jpeg = await sharp(Buffer.from(scene.pixels), { raw: { width: SHAPES_SIZE, height: SHAPES_SIZE, channels: 3 } })
  .resize(640, 480, { fit: 'fill' })
  .jpeg({ quality: 90 })
  .toBuffer();

/** The Server-Timing header's entries: `total` and the answer's stages (decode, preprocess, inference, postprocess). */
function serverTiming(header: string | null): Record<string, number> {
  return Object.fromEntries([...(header ?? '').matchAll(/([\w-]+);dur=([\d.]+)/g)].map((m) => [m[1], Number(m[2])]));
}

async function send(task: Task): Promise<{ ok: boolean; ms: number; serverMs: number; stages: Record<string, number>; status: number }> {
  const form = new FormData();
  form.set('image', new Blob([jpeg], { type: 'image/jpeg' }), 'scene.jpg');
  const t0 = performance.now();
  try {
    const res = await fetch(`${base}/api/${task}`, { method: 'POST', body: form });
    await res.arrayBuffer();
    const { total, ...stages } = serverTiming(res.headers.get('server-timing'));
    return { ok: res.ok, ms: performance.now() - t0, serverMs: total ?? NaN, stages, status: res.status };
  } catch {
    return { ok: false, ms: performance.now() - t0, serverMs: NaN, stages: {}, status: 0 };
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN;
};

for (const t of TASKS) await send(t); // warm-up: models, kernels
const idle = await memory();
const rssIdle = idle.rssBytes;

// One at a time.
const single: Record<string, { p50: number; p95: number; serverP50: number; stagesP50: Record<string, number> }> = {};
for (const t of TASKS) {
  const r: Awaited<ReturnType<typeof send>>[] = [];
  for (let i = 0; i < serial; i++) r.push(await send(t));
  single[t] = {
    p50: quantile(
      r.map((x) => x.ms),
      0.5,
    ),
    p95: quantile(
      r.map((x) => x.ms),
      0.95,
    ),
    serverP50: quantile(
      r.map((x) => x.serverMs),
      0.5,
    ),
    stagesP50: Object.fromEntries(
      Object.keys(r[0].stages).map((k) => [
        k,
        quantile(
          r.map((x) => x.stages[k]),
          0.5,
        ),
      ]),
    ),
  };
  console.log(
    `[load] one at a time, ${t}: p50 ${single[t].p50.toFixed(1)} ms (server ${single[t].serverP50.toFixed(1)} ms: ${Object.entries(single[t].stagesP50)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ')}), p95 ${single[t].p95.toFixed(1)} ms`,
  );
}

/** One round of `concurrency` uploads at once, tasks in turn. */
function round(r: number) {
  return Promise.all(
    Array.from({ length: concurrency }, (_, i) => {
      const task = TASKS[(r * concurrency + i) % TASKS.length];
      return send(task).then((x) => ({ task, ...x }));
    }),
  );
}

// Warm-up rounds at full concurrency (not counted): tfjs's wasm heap grows to the peak of concurrent work once
// and keeps it, so the leak check starts from that plateau; the growth from idle is reported beside it.
for (let r = 0; r < warmupRounds; r++) await round(r);
const before = await memory();
const rssBefore = before.rssBytes;

// Concurrent rounds, mixed tasks.
const byTask: Record<Task, number[]> = { classify: [], detect: [], segment: [] };
const statuses: Record<string, number> = {};
let errors = 0;
const t0 = performance.now();
for (let r = 0; r < rounds; r++) {
  const results = await round(r);
  for (const r of results) {
    byTask[r.task].push(r.ms);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (!r.ok) errors++;
  }
  console.log(`[load] round ${r + 1}/${rounds}: ${results.filter((r) => r.ok).length}/${concurrency} ok`);
}
const seconds = (performance.now() - t0) / 1000;
const after = await memory();
const rssAfter = after.rssBytes;
const report = {
  date: new Date().toISOString(),
  url: base,
  image: '640×480 JPEG (a shapes scene, seed 21)',
  single,
  concurrent: {
    concurrency,
    rounds,
    requests: concurrency * rounds,
    errors,
    statuses,
    seconds,
    perTask: Object.fromEntries(TASKS.map((t) => [t, { n: byTask[t].length, p50: quantile(byTask[t], 0.5), p95: quantile(byTask[t], 0.95) }])),
  },
  rss: {
    idleMb: rssIdle / 1048576,
    warmupRounds,
    beforeMb: rssBefore / 1048576,
    afterMb: rssAfter / 1048576,
    growth: rssAfter / rssBefore - 1,
    growthFromIdle: rssAfter / rssIdle - 1,
  },
  heapUsedMb: { before: before.heapUsedBytes / 1048576, after: after.heapUsedBytes / 1048576 },
  tensors: { idle: idle.tensors.count, before: before.tensors.count, after: after.tensors.count },
};
console.log(
  `[load] ${report.concurrent.requests} uploads, ${concurrency} concurrent: ${errors} errors in ${seconds.toFixed(1)} s; ` +
    TASKS.map((t) => `${t} p50 ${report.concurrent.perTask[t].p50.toFixed(0)} / p95 ${report.concurrent.perTask[t].p95.toFixed(0)} ms`).join(', ') +
    `; server RSS ${report.rss.beforeMb.toFixed(0)} → ${report.rss.afterMb.toFixed(0)} MB (${(report.rss.growth * 100).toFixed(1)} %; ` +
    `from idle ${report.rss.idleMb.toFixed(0)} MB: ${(report.rss.growthFromIdle * 100).toFixed(1)} %); ` +
    `live tensors ${report.tensors.before} → ${report.tensors.after}; JS heap ${report.heapUsedMb.before.toFixed(0)} → ${report.heapUsedMb.after.toFixed(0)} MB`,
);
if (args.out) {
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  writeFileAtomic(args.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`[load] wrote ${args.out}`);
}
process.exit(errors ? 1 : 0);
