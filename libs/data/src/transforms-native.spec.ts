import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADDON_PATH, ENABLE_HINT, initBackend, nativeImageOps, Rng, setNativeImageOps, type NativeImageOps } from '@cv/engine';
import { available } from '@cv/engine/testing';
import { collate, IGNORE_INDEX, type Sample } from './samples';
import { HsvJitter, RandomAffine, RandomFlip } from './transforms';
import type { SampleTransform } from './sample-types';

/**
 * The native augmentation (engine/native/image.cc) writes the same bytes as the JavaScript loops it replaces:
 * each transform applied with the same seed both ways, on random images with masks and boxes.
 */

const built = available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT);

function randomSample(rng: Rng, h: number, w: number, c: number): Sample {
  const image = Uint8Array.from({ length: h * w * c }, () => Math.floor(rng.next() * 256));
  // flat regions and greys too: the HSV map's d = 0 and max = 0 branches
  for (let i = 0; i < Math.min(image.length, 3 * 40); i++) image[i] = i < 60 ? 0 : 128;
  const mask = Uint8Array.from({ length: h * w }, () => Math.floor(rng.next() * 5));
  const boxes = Float32Array.of(2, 3, w / 2, h / 2, w / 3, h / 4, w - 1, h - 2);
  return { image, shape: [h, w, c], mask, boxes, boxClasses: Int32Array.of(0, 1) };
}

/** Applies `t` to each sample with a fresh seed, once with the native ops and once with the JavaScript loops. */
function bothWays(t: SampleTransform, samples: Sample[], native: NativeImageOps): [Sample[], Sample[]] {
  const run = (ops: NativeImageOps | null) => {
    setNativeImageOps(ops);
    return samples.map((s, i) => t.apply(s, new Rng(100 + i)));
  };
  const got = run(native);
  const want = run(null);
  setNativeImageOps(native);
  return [got, want];
}

describe.skipIf(!built)('native augmentation equals the JavaScript transforms byte for byte', () => {
  let native: NativeImageOps;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
    native = nativeImageOps()!;
  });
  afterAll(() => setNativeImageOps(native));

  const rng = new Rng(7);
  const samples = [randomSample(rng, 24, 31, 3), randomSample(rng, 17, 16, 3), randomSample(rng, 20, 20, 1), randomSample(rng, 33, 40, 3)];

  it('the addon provides the ops', () => {
    expect(native).not.toBeNull();
  });

  it.each([
    ['affine: scale and translation', new RandomAffine({ scale: 0.5, translate: 0.2 })],
    ['affine: rotation, scale, translation', new RandomAffine({ degrees: 30, scale: 0.25, translate: 0.1 })],
    ['affine: far outside (translation 0.5, scale 0.9)', new RandomAffine({ degrees: 180, scale: 0.9, translate: 0.5 })],
    ['flip', new RandomFlip(1)],
    ['hsv', new HsvJitter({ h: 0.5, s: 1, v: 1 })],
    ['hsv, small gains', new HsvJitter({ h: 0.015, s: 0.3, v: 0.3 })],
  ] as const)('%s', (_, t) => {
    const [got, want] = bothWays(t, samples, native);
    got.forEach((g, i) => {
      expect(Buffer.from(g.image).equals(Buffer.from(want[i].image))).toBe(true);
      if (want[i].mask) expect(Buffer.from(g.mask!).equals(Buffer.from(want[i].mask!))).toBe(true);
      expect(Array.from(g.boxes ?? [])).toEqual(Array.from(want[i].boxes ?? []));
    });
    // the transform did something (a test of equal no-ops would prove nothing)
    expect(got.some((g, i) => !Buffer.from(g.image).equals(Buffer.from(samples[i].image)))).toBe(true);
    if (t instanceof RandomAffine) expect(got.some((g) => g.mask!.includes(IGNORE_INDEX))).toBe(true);
  });

  it('collate writes the same floats', () => {
    const same = samples.filter((s) => s.shape.join() === '24,31,3');
    const batch = [same[0], { ...same[0], image: same[0].image.map((v) => 255 - v) }];
    setNativeImageOps(null);
    const want = collate(batch);
    setNativeImageOps(native);
    const got = collate(batch);
    expect(Buffer.from(got.x.buffer).equals(Buffer.from(want.x.buffer))).toBe(true);
    // every byte value: the table equals the JavaScript division
    const all = { image: Uint8Array.from({ length: 256 * 3 }, (_, i) => i % 256), shape: [16, 16, 3] as [number, number, number] };
    setNativeImageOps(null);
    const wantAll = collate([all]);
    setNativeImageOps(native);
    expect(Buffer.from(collate([all]).x.buffer).equals(Buffer.from(wantAll.x.buffer))).toBe(true);
  });

  it('refuses arrays that do not match the shape', () => {
    expect(() => native.flipX(new Uint8Array(10), new Uint8Array(10), 2, 2, 3)).toThrow(/h × w × c/);
    expect(() => native.warpAffine(new Uint8Array(12), new Uint8Array(11), null, null, new Float64Array(13).fill(2))).toThrow(/h × w × c/);
    expect(() => native.bytesToUnit(new Float32Array(4), 2, new Uint8Array(3))).toThrow(/do not fit/);
  });
});
