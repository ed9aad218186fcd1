import { describe, expect, it } from 'vitest';
import { frechetDistance, gaussianStats, meanMaxConfidence, normalizedClassEntropy, predictedClassHistogram } from './generative';

/** Seeded standard normals (Box–Muller on a LCG). */
function normals(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return Float64Array.from({ length: n }, () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
}

describe('gaussianStats', () => {
  it('matches hand-computed mean and (n − 1) covariance', () => {
    const s = gaussianStats([1, 2, 3, 6, 5, 4], 2); // vectors (1,2), (3,6), (5,4)
    expect(Array.from(s.mean)).toEqual([3, 4]);
    // deviations (-2,-2), (0,2), (2,0): var x = 8/2, var y = 8/2, cov = 4/2
    expect(Array.from(s.cov)).toEqual([4, 2, 2, 4]);
  });
});

describe('frechetDistance', () => {
  it('is ~0 for a set against itself', () => {
    const x = normals(400 * 6, 1).map((v, i) => v * (1 + (i % 6)) + (i % 3));
    const s = gaussianStats(x, 6);
    expect(frechetDistance(s, s)).toBeLessThan(1e-8);
  });

  it('matches the closed form for diagonal Gaussians: ‖Δμ‖² + Σ (σa − σb)²', () => {
    const a = { mean: Float64Array.from([0, 1, 2]), cov: Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 9]), dim: 3, count: 0 };
    const b = { mean: Float64Array.from([1, 1, 0]), cov: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]), dim: 3, count: 0 };
    expect(frechetDistance(a, b)).toBeCloseTo(1 + 4 + (2 - 1) ** 2 + 0 + (3 - 1) ** 2, 9);
  });

  it('matches the closed form for a correlated pair: tr(A + B − 2(A^½ B A^½)^½) computed by hand', () => {
    // A = [[2,1],[1,2]] (eigenvalues 3, 1), B = I: (A^½ A^½)^½ = A^½, tr A^½ = √3 + 1.
    const a = { mean: Float64Array.from([0, 0]), cov: Float64Array.from([2, 1, 1, 2]), dim: 2, count: 0 };
    const b = { mean: Float64Array.from([3, 4]), cov: Float64Array.from([1, 0, 0, 1]), dim: 2, count: 0 };
    expect(frechetDistance(a, b)).toBeCloseTo(25 + 4 + 2 - 2 * (Math.sqrt(3) + 1), 9);
  });

  it('two shifted Gaussian samples: sample FID ≈ the closed form of their true parameters', () => {
    const d = 4;
    const n = 20000;
    const x = normals(n * d, 2);
    const y = normals(n * d, 3).map((v, i) => 2 * v + (i % d === 0 ? 3 : 0)); // σ = 2, μ shifted by 3 on axis 0
    const fid = frechetDistance(gaussianStats(x, d), gaussianStats(y, d));
    const closed = 9 + d * (2 - 1) ** 2; // ‖Δμ‖² + Σ (σa − σb)²
    expect(Math.abs(fid - closed) / closed).toBeLessThan(0.03);
  });

  it('rejects different feature sizes', () => {
    const s2 = gaussianStats([1, 2, 3, 4, 5, 7], 2);
    const s3 = gaussianStats([1, 2, 3, 4, 5, 7], 3);
    expect(() => frechetDistance(s2, s3)).toThrow(/feature sizes differ/);
  });
});

describe('confidence and class entropy', () => {
  const probs = [0.9, 0.1, 0, 0.2, 0.7, 0.1, 0.5, 0.25, 0.25, 0.1, 0.1, 0.8]; // argmax 0, 1, 0, 2
  it('mean max-softmax confidence', () => {
    expect(meanMaxConfidence(probs, 3)).toBeCloseTo((0.9 + 0.7 + 0.5 + 0.8) / 4, 12);
  });
  it('predicted-class histogram and its entropy normalised by log K', () => {
    expect(predictedClassHistogram(probs, 3)).toEqual([2, 1, 1]);
    const h = -(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25));
    expect(normalizedClassEntropy(probs, 3)).toBeCloseTo(h / Math.log(3), 12);
    expect(normalizedClassEntropy([1, 0, 1, 0], 2)).toBe(0); // collapse
    expect(normalizedClassEntropy([1, 0, 0, 1], 2)).toBeCloseTo(1, 12); // uniform
  });
});
