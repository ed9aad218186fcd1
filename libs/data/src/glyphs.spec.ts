import { describe, expect, it } from 'vitest';
import { makeGlyphs } from './glyphs';

const small = { classes: 6, trainPerClass: 8, testPerClass: 4, seed: 3 };
const image = (set: { images: Uint8Array }, i: number) => set.images.subarray(i * 784, (i + 1) * 784);

/** Centre of mass (x, y) and larger bounding-box side of one image's ink. */
function geometry(img: Uint8Array): { cx: number; cy: number; side: number } {
  let m = 0,
    cx = 0,
    cy = 0,
    x0 = 28,
    x1 = -1,
    y0 = 28,
    y1 = -1;
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const v = img[y * 28 + x];
      if (!v) continue;
      m += v;
      cx += v * (x + 0.5);
      cy += v * (y + 0.5);
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  return { cx: cx / m, cy: cy / m, side: Math.max(x1 - x0, y1 - y0) + 1 };
}

describe('procedural glyphs', () => {
  it('has the requested sizes, round-robin labels and is deterministic in the seed', () => {
    const ds = makeGlyphs(small);
    expect(ds.train.labels.length).toBe(48);
    expect(ds.test.labels.length).toBe(24);
    expect(Array.from(ds.train.labels.subarray(0, 7))).toEqual([0, 1, 2, 3, 4, 5, 0]);
    expect(ds.train.shape).toEqual([28, 28, 1]);
    expect(makeGlyphs(small).train.images).toEqual(ds.train.images);
    expect(makeGlyphs({ ...small, seed: 4 }).train.images).not.toEqual(ds.train.images);
  });

  it('draws MNIST-like images: ink centred, larger side ≈ 20 px, anti-aliased edges', () => {
    const ds = makeGlyphs(small);
    for (let i = 0; i < ds.train.labels.length; i++) {
      const img = image(ds.train, i);
      const g = geometry(img);
      expect(Math.abs(g.cx - 14)).toBeLessThan(2.5);
      expect(Math.abs(g.cy - 14)).toBeLessThan(2.5);
      expect(g.side).toBeGreaterThanOrEqual(19);
      expect(g.side).toBeLessThanOrEqual(25); // 20 px of stroke centre line + the pen's width
      expect(img.some((v) => v === 255)).toBe(true);
      expect(img.some((v) => v > 0 && v < 255)).toBe(true);
    }
  });

  it('draws every image afresh: same-class images differ, and are closer to each other than to other classes', () => {
    const ds = makeGlyphs({ ...small, trainPerClass: 20 });
    const dist = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, k) => s + Math.abs(v - b[k]), 0);
    expect(dist(image(ds.train, 0), image(ds.train, 6))).toBeGreaterThan(0); // class 0, two draws
    // Class means (blurred prototypes): each test image is nearer its own class mean than the average other.
    const mean = Array.from({ length: 6 }, () => new Float64Array(784));
    ds.train.labels.forEach((c, i) =>
      image(ds.train, i).forEach((v, k) => {
        mean[c][k] += v / 20;
      }),
    );
    let nearer = 0;
    for (let i = 0; i < ds.test.labels.length; i++) {
      const img = image(ds.test, i);
      const d = mean.map((m) => m.reduce((s, v, k) => s + (v - img[k]) ** 2, 0));
      const own = d[ds.test.labels[i]];
      const others = d.filter((_, c) => c !== ds.test.labels[i]);
      if (own < others.reduce((s, v) => s + v, 0) / others.length) nearer++;
    }
    expect(nearer).toBeGreaterThanOrEqual(20); // of 24
  });

  it('rejects an impossible class count', () => {
    expect(() => makeGlyphs({ ...small, classes: 1 })).toThrow(/classes must be 2..256/);
  });
});
