import { describe, expect, it } from 'vitest';
import { Rng } from '@cv/engine';
import { classificationSamples, collate, IGNORE_INDEX, type Sample, SampleLoader, shardSamples } from './samples';
import { Compose, HsvJitter, Mosaic, RandomAffine, RandomFlip } from './transforms';

/** A 10×8 grey image with a bright 3×3 block at x 1..3, y 2..4, boxed and masked (class 1). */
function blockSample(): Sample {
  const [h, w] = [8, 10];
  const image = new Uint8Array(h * w);
  const mask = new Uint8Array(h * w);
  for (let y = 2; y < 5; y++) for (let x = 1; x < 4; x++) ((image[y * w + x] = 200), (mask[y * w + x] = 1));
  return { image, shape: [h, w, 1], boxes: Float32Array.from([1, 2, 4, 5]), boxClasses: Int32Array.from([1]), mask, label: 3 };
}

describe('samples with boxes and masks', () => {
  it('collate pads variable-length boxes (classes −1) and stacks labels, masks and pixels in 0..1', () => {
    const a = blockSample();
    const b: Sample = { ...blockSample(), boxes: Float32Array.from([0, 0, 2, 2, 5, 5, 9, 7]), boxClasses: Int32Array.from([0, 2]), label: 1 };
    const c: Sample = { ...blockSample(), boxes: new Float32Array(0), boxClasses: new Int32Array(0), label: 0 };
    const batch = collate([a, b, c]);
    expect(batch.shape).toEqual([3, 8, 10, 1]);
    expect(batch.maxBoxes).toBe(2);
    expect(Array.from(batch.boxCounts!)).toEqual([1, 2, 0]);
    expect(Array.from(batch.boxClasses!)).toEqual([1, -1, 0, 2, -1, -1]);
    expect(Array.from(batch.boxes!.subarray(8, 16))).toEqual([0, 0, 2, 2, 5, 5, 9, 7]);
    expect(Array.from(batch.y!)).toEqual([3, 1, 0]);
    expect(batch.masks!.length).toBe(3 * 80);
    expect(batch.x[2 * 10 + 1]).toBeCloseTo(200 / 255, 7);
    expect(() => collate([a, { ...a, shape: [8, 8, 1], image: new Uint8Array(64) }])).toThrow(/sample 1 is 8×8×1, sample 0 is 8×10×1/);
  });

  it('a shard is a contiguous block of images with their labels, padded boxes and masks', () => {
    const b: Sample = { ...blockSample(), boxes: Float32Array.from([0, 0, 2, 2, 5, 5, 9, 7]), boxClasses: Int32Array.from([0, 2]), label: 1 };
    const batch = collate([blockSample(), b, blockSample()]);
    const part = shardSamples(batch, 1, 2); // rows 1..2 of 3
    expect(part.shape).toEqual([2, 8, 10, 1]);
    expect(Array.from(part.y!)).toEqual([1, 3]);
    expect(Array.from(part.boxCounts!)).toEqual([2, 1]);
    expect(Array.from(part.boxes!.subarray(0, 8))).toEqual([0, 0, 2, 2, 5, 5, 9, 7]);
    expect(Array.from(part.boxClasses!)).toEqual([0, 2, 1, -1]);
    expect(part.masks!.length).toBe(2 * 80);
    expect(part.x.length).toBe(2 * 80);
  });

  it('a flip mirrors the image, the mask and the boxes together', () => {
    const s = new RandomFlip(1).apply(blockSample(), new Rng(0));
    expect(Array.from(s.boxes!)).toEqual([6, 2, 9, 5]);
    for (let x = 0; x < 10; x++) expect(s.image[2 * 10 + x] === 200, `x=${x}`).toBe(x >= 6 && x <= 8);
    expect(s.mask![3 * 10 + 7]).toBe(1);
    expect(blockSample().image[2 * 10 + 1]).toBe(200); // input untouched
  });

  it('an affine transform keeps boxes on their object: the bright pixels stay inside the new box', () => {
    const rng = new Rng(4);
    for (let trial = 0; trial < 20; trial++) {
      const s = new RandomAffine({ degrees: 10, scale: 0.3, translate: 0.1 }).apply(blockSample(), rng);
      if (!s.boxes!.length) continue; // moved out of the image: dropped with its class
      expect(s.boxClasses!.length).toBe(1);
      const [x1, y1, x2, y2] = s.boxes!;
      const [h, w] = [8, 10];
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          if (s.mask![y * w + x] === 1) {
            expect(x + 0.5).toBeGreaterThanOrEqual(x1 - 0.75);
            expect(x + 0.5).toBeLessThanOrEqual(x2 + 0.75);
            expect(y + 0.5).toBeGreaterThanOrEqual(y1 - 0.75);
            expect(y + 0.5).toBeLessThanOrEqual(y2 + 0.75);
          }
        }
      }
    }
  });

  it('identity affine leaves everything as it was; pixels moved in from outside are grey / ignored', () => {
    const id = new RandomAffine({}).apply(blockSample(), new Rng(1));
    expect(Array.from(id.image)).toEqual(Array.from(blockSample().image));
    expect(Array.from(id.boxes!)).toEqual([1, 2, 4, 5]);
    const shifted = new RandomAffine({ translate: 0.5 }).apply(blockSample(), new Rng(1));
    expect(shifted.image.includes(114) || shifted.mask!.includes(IGNORE_INDEX)).toBe(true);
  });

  it('a mosaic tiles four samples: each box lies on its object, and every object pixel is in a box', () => {
    const at = (bx: number, by: number): Sample => {
      const s = blockSample();
      const image = new Uint8Array(80);
      const mask = new Uint8Array(80);
      for (let y = by; y < by + 3; y++) for (let x = bx; x < bx + 3; x++) ((image[y * 10 + x] = 200), (mask[y * 10 + x] = 1));
      return { ...s, image, mask, boxes: Float32Array.from([bx, by, bx + 3, by + 3]) };
    };
    const set = { length: 3, classNames: ['bg', 'block'], get: (i: number) => [at(0, 0), at(6, 4), at(3, 2)][i] };
    const rng = new Rng(7);
    let kept = 0;
    for (let trial = 0; trial < 30; trial++) {
      const m = new Mosaic(set, { minAreaRatio: 0, minSize: 0 }).apply(at(5, 1), rng);
      expect(m.shape).toEqual([8, 10, 1]);
      let boxArea = 0;
      for (let i = 0; i < m.boxes!.length; i += 4) {
        const [x1, y1, x2, y2] = m.boxes!.subarray(i, i + 4);
        boxArea += (x2 - x1) * (y2 - y1);
        for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) expect(m.mask![y * 10 + x], `box ${i / 4} at ${x},${y}`).toBe(1);
        kept++;
      }
      expect(m.mask!.reduce((a, v) => a + (v === 1 ? 1 : 0), 0)).toBe(boxArea);
      expect(m.image.filter((v) => v === 200).length).toBe(boxArea);
    }
    expect(kept).toBeGreaterThan(30);
    expect(new Mosaic(set, { p: 0 }).apply(at(5, 1), rng).image).toEqual(at(5, 1).image);
  });

  it('HSV jitter turns hue, scales saturation and value, and leaves grey grey', () => {
    const top = { uniform: () => 1, next: () => 0 } as unknown as Rng; // every gain at its maximum
    const image = Uint8Array.from([255, 0, 0, 128, 128, 128, 100, 50, 25]);
    const s: Sample = { image, shape: [1, 3, 3] };
    expect(Array.from(new HsvJitter({ h: 1 / 3 }).apply(s, top).image)).toEqual([0, 255, 0, 128, 128, 128, 25, 100, 50]);
    expect(Array.from(new HsvJitter({ v: 0.2 }).apply(s, top).image)).toEqual([255, 0, 0, 154, 154, 154, 120, 60, 30]);
    // saturation ×1.5: (100, 50, 25) has S = 0.75 → 1 (clipped), V = 100 → (100, 33, 0)
    expect(Array.from(new HsvJitter({ s: 0.5 }).apply(s, top).image.subarray(3))).toEqual([128, 128, 128, 100, 33, 0]);
    expect(new HsvJitter({}).apply(s, top).image).toBe(image);
  });

  it("the loader batches any task's samples deterministically per seed, augmentation included", async () => {
    const set = { length: 5, classNames: ['bg', 'block'], get: () => blockSample() };
    const loader = new SampleLoader(set, { batchSize: 2, shuffle: true, transform: new Compose([new RandomFlip(0.5), new RandomAffine({ translate: 0.2 })]) });
    const collect = async (seed: number) => {
      const out: number[][] = [];
      for await (const b of loader.batches(seed)) out.push(Array.from(b.boxes!));
      return out;
    };
    expect(loader.length).toBe(3);
    expect(await collect(1)).toEqual(await collect(1));
    expect(await collect(1)).not.toEqual(await collect(2));
  });

  it('worker threads give the batches of this thread, byte for byte (mosaic, affine, flip, HSV; boxes, masks, labels)', async () => {
    const rng = new Rng(5);
    const samples = Array.from({ length: 9 }, (_, i) => {
      const s = blockSample();
      const image = new Uint8Array(8 * 10 * 3).map(() => Math.floor(rng.next() * 256));
      return {
        ...s,
        image,
        shape: [8, 10, 3] as [number, number, number],
        label: i,
        boxes: i === 4 ? undefined : s.boxes,
        boxClasses: i === 4 ? undefined : s.boxClasses,
      };
    });
    const set = { length: samples.length, classNames: ['bg', 'block'], get: (i: number) => samples[i] };
    const transform = () =>
      new Compose([
        new Mosaic(set, { p: 0.5 }),
        new RandomAffine({ degrees: 10, scale: 0.3, translate: 0.2 }),
        new RandomFlip(0.5),
        new HsvJitter({ h: 0.1, s: 0.5, v: 0.5 }),
      ]);
    const plain = new SampleLoader(set, { batchSize: 4, shuffle: true, transform: transform() });
    const threaded = new SampleLoader(set, { batchSize: 4, shuffle: true, transform: transform(), workers: 2 });
    const collect = async (loader: SampleLoader, seed: number) => {
      const out: unknown[] = [];
      for await (const b of loader.batches(seed)) out.push(b);
      return out;
    };
    for (const seed of [1, 2]) expect(await collect(threaded, seed)).toEqual(await collect(plain, seed));
    expect((threaded as unknown as { pool: unknown }).pool).not.toBeNull(); // the threads made them
    // A transform the workers cannot rebuild (a mosaic over another set) keeps to this thread, same batches.
    const other = new SampleLoader(set, { batchSize: 4, transform: new Mosaic({ ...set }), workers: 1 });
    expect((await collect(other, 3)).length).toBe(3);
    await threaded.close();
    await other.close();
  });

  it('a classification set reads as samples with labels', () => {
    const set = {
      images: new Uint8Array(3 * 4),
      labels: Int32Array.from([2, 0, 1]),
      shape: [2, 2, 1] as [number, number, number],
      classNames: ['a', 'b', 'c'],
    };
    const samples = classificationSamples(set);
    expect(samples.length).toBe(3);
    expect(samples.get(0).label).toBe(2);
    expect(Array.from(collate([samples.get(1), samples.get(2)]).y!)).toEqual([0, 1]);
  });
});
