import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { classify, detect, generate, models, segment } from './handlers';
import { HttpError } from './errors';
import { CONCURRENCY, MAX_WAITING, queued } from './queue';
import { MAX_BYTES, numberField, readUpload } from './upload';

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
    const d = await (await detect(upload(scene, { conf: '0.001' }))).json();
    expect(d.model).toBe('shapes-detect');
    for (const o of d.detections) expect(o.box).toHaveLength(4);
    const s = await (await segment(upload(scene))).json();
    expect(Object.keys(s.coverage)).toEqual(s.classes);
    const meta = await sharp(Buffer.from(s.mask, 'base64')).metadata();
    expect([meta.width, meta.height, meta.channels]).toEqual([96, 80, 1]);
    expect(Object.values(s.coverage as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    const g = await (await generate(new Request('http://localhost/api/generate?n=3&seed=4'))).json();
    expect(g.images).toHaveLength(3);
    const m = await (await models()).json();
    expect(m.models.map((x: { id: string }) => x.id)).toContain('shapes-segment');
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
