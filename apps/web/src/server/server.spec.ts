import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { classify, detect, generate, models, segment } from './handlers';
import { HttpError } from './errors';
import { CONCURRENCY, MAX_WAITING, queued } from './queue';
import { integerField, MAX_BODY, MAX_BYTES, numberField, readUpload } from './upload';
import { pngHeader as bombHeader } from '../../scripts/png-header';
import { methodNotAllowed } from './errors';

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } })
    .png()
    .toBuffer();

function upload(bytes: Uint8Array | string, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Request {
  const form = new FormData();
  form.set('image', new Blob([bytes as BlobPart]), 'x.png');
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return new Request('http://localhost/api/x', { method: 'POST', body: form, headers });
}

async function refusal(p: Promise<unknown>): Promise<{ status: number; message: string }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof HttpError) return { status: e.status, message: e.message };
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('readUpload', () => {
  it('decodes a PNG at its own size', async () => {
    const { image, format } = await readUpload(upload(await png(64, 48)));
    expect([image.width, image.height, image.channels, format]).toEqual([64, 48, 3, 'png']);
    expect(Array.from(image.data.subarray(0, 3))).toEqual([200, 40, 90]);
  });

  it('refuses by content, size and pixels, each with one line', async () => {
    expect(await refusal(readUpload(upload('not an image')))).toMatchObject({ status: 415 });
    expect(await refusal(readUpload(upload(new Uint8Array(0))))).toMatchObject({ status: 400, message: expect.stringContaining('0 bytes') });
    const gif = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'white' } })
      .gif()
      .toBuffer();
    expect(await refusal(readUpload(upload(gif)))).toMatchObject({ status: 415, message: expect.stringContaining('gif') });
    // 4097 × 4096 pixels: refused from the header, before decoding.
    expect(await refusal(readUpload(upload(await png(4097, 4096))))).toMatchObject({ status: 413, message: expect.stringContaining('4097×4096') });
    expect(await refusal(readUpload(upload(await png(8, 8), {}, { 'content-length': String(MAX_BYTES * 2) })))).toMatchObject({ status: 413 });
    const noImage = new FormData();
    noImage.set('picture', 'x');
    expect(await refusal(readUpload(new Request('http://localhost/', { method: 'POST', body: noImage })))).toMatchObject({
      status: 400,
      message: expect.stringContaining("'image'"),
    });
  });

  it('numberField keeps values in range', () => {
    const f = new URLSearchParams({ conf: '0.4', bad: 'x', big: '7' });
    expect(numberField(f, 'conf', 0.25, 0, 1)).toBe(0.4);
    expect(numberField(f, 'missing', 0.25, 0, 1)).toBe(0.25);
    expect(() => numberField(f, 'bad', 0.25, 0, 1)).toThrow(/'bad' must be a number from 0 to 1/);
    expect(() => numberField(f, 'big', 0.25, 0, 1)).toThrow(HttpError);
  });
});

/** A decompression bomb's header: RGB, width × height declared, a tiny all-zero IDAT. */
const pngHeader = (width: number, height: number): Uint8Array => new Uint8Array(bombHeader(width, height, { channels: 3 }));

describe('hostile uploads', () => {
  it('a chunked body (no Content-Length) is refused with 413 at the limit while it streams: the rest is never read', async () => {
    let pulled = 0;
    const chunk = new Uint8Array(256 * 1024);
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += chunk.byteLength;
        if (pulled > 200 * 1048576)
          c.close(); // a 200 MB body, were it read whole
        else c.enqueue(chunk);
      },
    });
    const request = new Request('http://localhost/api/detect', {
      method: 'POST',
      body: endless,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      duplex: 'half',
    } as RequestInit);
    expect(await refusal(readUpload(request))).toMatchObject({ status: 413, message: expect.stringContaining('10 MB') });
    expect(pulled).toBeLessThan(MAX_BODY + 4 * chunk.byteLength);
  });

  it('pixel counts come from the header, whatever it declares: 50,000² is 413 "too many pixels", not "not a PNG"', async () => {
    expect(await refusal(readUpload(upload(pngHeader(50000, 50000))))).toMatchObject({ status: 413, message: expect.stringContaining('50000×50000') });
    expect(await refusal(readUpload(upload(pngHeader(4097, 4096))))).toMatchObject({ status: 413 });
  });

  it("a truncated PNG or JPEG is named in the suite's words, not libvips'", async () => {
    const full = await png(64, 64);
    for (const bytes of [full.subarray(0, Math.floor(full.length * 0.6))]) {
      const r = await refusal(readUpload(upload(bytes)));
      expect(r.status).toBe(415);
      expect(r.message).toMatch(/damaged or truncated/);
      expect(r.message).not.toMatch(/vips|libpng|libjpeg/i);
    }
    const noise = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251));
    const jpeg = await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .jpeg()
      .toBuffer();
    const r = await refusal(readUpload(upload(jpeg.subarray(0, jpeg.length >> 1))));
    expect(r.status).toBe(415);
    expect(r.message).not.toMatch(/vips|libjpeg/i);
  });

  it('a large upload is decoded at most 640 a side (shrink-on-load); answers are in its own pixels', async () => {
    const big = await png(2000, 1500);
    const { image, width, height } = await readUpload(upload(big));
    expect([image.width, image.height, width, height]).toEqual([640, 480, 2000, 1500]);
    const d = await (await detect(upload(big, { conf: '0.001' }))).json();
    expect([d.width, d.height]).toEqual([2000, 1500]);
    for (const o of d.detections) expect(o.box[0] + o.box[2]).toBeLessThanOrEqual(2000 + 1e-3);
    const s = await (await segment(upload(big))).json();
    const meta = await sharp(Buffer.from(s.mask, 'base64')).metadata();
    expect([meta.width, meta.height, s.width, s.height]).toEqual([2000, 1500, 2000, 1500]);
  });

  it('TIFF, AVIF and SVG uploads are 415 with one line naming the format', async () => {
    const base = sharp({ create: { width: 8, height: 8, channels: 3, background: 'white' } });
    const files: [string, Uint8Array][] = [
      ['tiff', await base.clone().tiff().toBuffer()],
      ['heif', await base.clone().avif().toBuffer()],
      ['svg', new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')],
    ];
    for (const [format, bytes] of files) {
      const e = await refusal(readUpload(upload(bytes)));
      expect(e, format).toMatchObject({ status: 415, message: expect.stringContaining(format) });
      expect(e.message).not.toContain('\n');
    }
  });

  it('a 16 KB PNG declaring 4096² (all zeros) decodes small; four at once all answer', async () => {
    const bomb = new Uint8Array(bombHeader(4096, 4096, { idatBytes: 4096 * 4097 }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const { image, width, height } = await readUpload(upload(bomb));
    expect([image.width, image.height, width, height]).toEqual([640, 640, 4096, 4096]);
    const answers = await Promise.all(Array.from({ length: 4 }, () => segment(upload(bomb))));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    for (const r of answers) expect((await r.json()).width).toBe(4096);
  });

  it('a body that is not a multipart form gets 400, and numbers must be decimal (counts whole)', async () => {
    const json = new Request('http://localhost/api/detect', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(await refusal(readUpload(json))).toMatchObject({ status: 400, message: expect.stringContaining('multipart') });
    const f = new URLSearchParams({ hex: '0x1', inf: 'Infinity', half: '2.5', n: '12', neg: '-5', exp: '1e-1' });
    expect(() => numberField(f, 'hex', 0.25, 0, 1)).toThrow(/'hex' must be a number/);
    expect(() => numberField(f, 'inf', 0.25, 0, 1e9)).toThrow(HttpError);
    expect(numberField(f, 'exp', 0.25, 0, 1)).toBe(0.1);
    expect(() => integerField(f, 'half', 16, 1, 64)).toThrow(/'half' must be a whole number from 1 to 64/);
    expect(integerField(f, 'n', 16, 1, 64)).toBe(12);
    expect(() => integerField(f, 'neg', 1, 0, 100)).toThrow(HttpError);
  });

  it('wrong methods get 405 with a JSON error and Allow; generate refuses fractional counts with 400', async () => {
    const r = methodNotAllowed('POST')();
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(await r.json()).toEqual({ error: 'this route answers POST only' });
    for (const q of ['n=1.5', 'seed=-5', 'n=0x1', 'interpolate=yes']) {
      const g = await generate(new Request(`http://localhost/api/generate?${q}`));
      expect(g.status).toBe(400);
      expect(Object.keys(await g.json())).toEqual(['error']);
    }
  });
});

describe('the bounded queue', () => {
  it('refuses with 503 once the waiting room is full, and serves again after', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = Array.from({ length: MAX_WAITING + CONCURRENCY }, () => queued(() => gate));
    expect(await refusal(queued(async () => 1))).toMatchObject({ status: 503, message: expect.stringContaining('busy') });
    release();
    await Promise.all(held);
    expect(await queued(async () => 2)).toBe(2);
  });
});

describe('route handlers on the shipped models', () => {
  it('answer in the documented shapes', async () => {
    const scene = await png(96, 80);
    const c = await (await classify(upload(scene, { model: 'mnist' }))).json();
    expect(c.model).toBe('mnist');
    expect(c.top).toHaveLength(5);
    expect(c.top[0]).toEqual({ label: expect.any(String), probability: expect.any(Number) });
    const dRes = await detect(upload(scene, { conf: '0.001' }));
    const d = await dRes.json();
    expect(d.model).toBe('shapes-detect');
    expect(d.categoryIds).toHaveLength(d.classes.length);
    for (const o of d.detections) expect(o.box).toHaveLength(4);
    // Milliseconds by stage, in the answer and in Server-Timing beside the total.
    expect(Object.keys(d.timing)).toEqual(['decode', 'preprocess', 'inference', 'postprocess']);
    expect(d.timing.inference).toBeGreaterThan(0);
    const header = dRes.headers.get('server-timing')!;
    for (const k of ['decode', 'preprocess', 'inference', 'postprocess', 'total']) expect(header).toMatch(new RegExp(`(^|, )${k};dur=[\\d.]+`));
    expect(c.timing.inference).toBeGreaterThan(0);
    const s = await (await segment(upload(scene))).json();
    expect(Object.keys(s.coverage)).toEqual(s.classes);
    expect(s.timing.postprocess).toBeGreaterThan(0); // the mask PNG at the upload's size
    const meta = await sharp(Buffer.from(s.mask, 'base64')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([96, 80, 1]);
    expect(Object.values(s.coverage as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const g = await (await generate(new Request('http://localhost/api/generate?n=3&seed=4'))).json();
    expect(g.images).toHaveLength(3);
    const m = await (await models()).json();
    expect(m.models.map((x: { id: string }) => x.id)).toContain('shapes-segment');
    expect(m.diagnostics).toBeUndefined(); // the process's state only with WEB_DIAGNOSTICS=1
    expect(JSON.stringify(m)).not.toMatch(/rss|heap/i);
  });

  it('refuse unknown ids and models of another task with 4xx, never reading a path from the request', async () => {
    const scene = await png(32, 32);
    const r1 = await classify(upload(scene, { model: '../../../etc' }));
    expect(r1.status).toBe(404);
    expect((await r1.json()).error).toMatch(/no model '..\/..\/..\/etc'/);
    const r2 = await detect(upload(scene, { model: 'mnist' }));
    expect(r2.status).toBe(400);
    expect((await r2.json()).error).toMatch(/is a classify model, not detect/);
    const r3 = await detect(upload(scene, { conf: '2' }));
    expect(r3.status).toBe(400);
  });
});
