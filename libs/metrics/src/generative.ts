import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/** Mean and covariance of a set of feature vectors (covariance with the n − 1 denominator, as numpy's `cov`). */
export interface GaussianStats {
  mean: Float64Array;
  /** d×d, row-major. */
  cov: Float64Array;
  dim: number;
  count: number;
}

/**
 * Mean and covariance of `features` (N·d values, vector after vector).
 *
 * @example
 * const real = gaussianStats(featuresOfRealImages, 128);
 */
export function gaussianStats(features: ArrayLike<number>, dim: number): GaussianStats {
  const n = Math.floor(features.length / dim);
  if (n < 2 || n * dim !== features.length) {
    throw new Error(`gaussianStats needs at least 2 vectors of ${dim} values; got ${features.length} values`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += features[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) centred[j] = features[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      const row = a * dim;
      for (let b = a; b < dim; b++) cov[row + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (n - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { mean, cov, dim, count: n };
}

const toMatrix = (values: Float64Array, dim: number) => {
  const m = new Matrix(dim, dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) m.set(i, j, values[i * dim + j]);
  return m;
};

/** Symmetric square root of a symmetric positive semi-definite matrix (negative round-off eigenvalues → 0). */
function sqrtPsd(m: Matrix): Matrix {
  const eig = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const v = eig.eigenvectorMatrix;
  const roots = eig.realEigenvalues.map((l) => Math.sqrt(Math.max(l, 0)));
  const scaled = v.clone();
  for (let j = 0; j < roots.length; j++) for (let i = 0; i < v.rows; i++) scaled.set(i, j, v.get(i, j) * roots[j]);
  return scaled.mmul(v.transpose());
}

/**
 * The Fréchet distance between two Gaussians — FID when the statistics are of classifier features:
 * ‖μa − μb‖² + tr(Σa) + tr(Σb) − 2·tr((Σa^½ Σb Σa^½)^½). The last trace is computed from the eigenvalues
 * of the symmetric matrix Σa^½ Σb Σa^½ (equal to those of Σa Σb), so no non-symmetric square root is needed.
 *
 * @example
 * const fid = frechetDistance(gaussianStats(fake, 128), gaussianStats(real, 128));
 */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  if (a.dim !== b.dim) throw new Error(`frechetDistance: feature sizes differ (${a.dim} vs ${b.dim})`);
  const d = a.dim;
  let meanTerm = 0;
  for (let i = 0; i < d; i++) meanTerm += (a.mean[i] - b.mean[i]) ** 2;
  let traces = 0;
  for (let i = 0; i < d; i++) traces += a.cov[i * d + i] + b.cov[i * d + i];
  const rootA = sqrtPsd(toMatrix(a.cov, d));
  const inner = rootA.mmul(toMatrix(b.cov, d)).mmul(rootA);
  // Symmetrise against round-off before the symmetric eigen-solver.
  const sym = inner.add(inner.transpose()).mul(0.5);
  const eigenvalues = new EigenvalueDecomposition(sym, { assumeSymmetric: true }).realEigenvalues;
  const crossTrace = eigenvalues.reduce((s, l) => s + Math.sqrt(Math.max(l, 0)), 0);
  return Math.max(meanTerm + traces - 2 * crossTrace, 0);
}

/** Mean over samples of the largest class probability (`probs` is N·K, row after row). */
export function meanMaxConfidence(probs: ArrayLike<number>, numClasses: number): number {
  const n = probs.length / numClasses;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 0; k < numClasses; k++) best = Math.max(best, probs[i * numClasses + k]);
    sum += best;
  }
  return n ? sum / n : NaN;
}

/** How many samples fall in each class by argmax. */
export function predictedClassHistogram(probs: ArrayLike<number>, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  const n = probs.length / numClasses;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (probs[i * numClasses + k] > probs[i * numClasses + best]) best = k;
    counts[best]++;
  }
  return counts;
}

/**
 * Entropy of the predicted-class histogram divided by log K: 1 when samples spread evenly over the K
 * classes, 0 when every sample is the same class (mode collapse).
 */
export function normalizedClassEntropy(probs: ArrayLike<number>, numClasses: number): number {
  const counts = predictedClassHistogram(probs, numClasses);
  const n = counts.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / n) * Math.log(c / n);
  return h / Math.log(numClasses);
}
