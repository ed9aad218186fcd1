import * as tf from '@tensorflow/tfjs';
import type { Rng } from '@cv/engine/core';

/**
 * Label smoothing (Szegedy et al. 2016): y·(1−ε) + ε/K.
 *
 * @example
 * smoothLabels(tf.oneHot([2], 4), 0.1) // [[0.025, 0.025, 0.925, 0.025]]
 */
export function smoothLabels(yOneHot: tf.Tensor, epsilon: number): tf.Tensor {
  if (epsilon === 0) return yOneHot;
  const k = yOneHot.shape[yOneHot.shape.length - 1] as number;
  return tf.add(tf.mul(yOneHot, 1 - epsilon), epsilon / k);
}

/** Gamma(shape, 1) by Marsaglia–Tsang (boosted for shape < 1). */
export function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * rng.next() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = rng.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** Beta(α, β) from two gammas. */
export function sampleBeta(alpha: number, beta: number, rng: Rng): number {
  const a = sampleGamma(alpha, rng);
  const b = sampleGamma(beta, rng);
  return a / (a + b);
}

export interface MixedBatch {
  x: tf.Tensor4D;
  y: tf.Tensor2D;
  /** Weight of the original images (1 − weight of the partners). */
  lambda: number;
}

/** A random pairing of the batch (a permutation). */
function partners(n: number, rng: Rng): tf.Tensor1D {
  return tf.tensor1d(rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)) as Int32Array, 'int32');
}

/**
 * mixup (Zhang et al. 2018): x = λx + (1−λ)x[π], y likewise, λ ~ Beta(α, α).
 *
 * @example
 * const { x, y } = mixup(images, oneHot, 0.2, rng);
 */
export function mixup(x: tf.Tensor4D, y: tf.Tensor2D, alpha: number, rng: Rng): MixedBatch {
  const lambda = sampleBeta(alpha, alpha, rng);
  const perm = partners(x.shape[0], rng);
  return tf.tidy(() => ({
    x: tf.add(tf.mul(x, lambda), tf.mul(tf.gather(x, perm), 1 - lambda)) as tf.Tensor4D,
    y: tf.add(tf.mul(y, lambda), tf.mul(tf.gather(y, perm), 1 - lambda)) as tf.Tensor2D,
    lambda,
  }));
}

/**
 * CutMix (Yun et al. 2019): a box of area (1−λ)·H·W from the partner image is pasted in; labels are mixed
 * by the exact pasted area (λ is corrected for boxes clipped at the border).
 *
 * @example
 * const { x, y, lambda } = cutmix(images, oneHot, 1.0, rng);
 */
export function cutmix(x: tf.Tensor4D, y: tf.Tensor2D, alpha: number, rng: Rng): MixedBatch {
  const [, h, w] = x.shape;
  const lam0 = sampleBeta(alpha, alpha, rng);
  const cut = Math.sqrt(1 - lam0);
  const [ch, cw] = [Math.round(h * cut), Math.round(w * cut)];
  const [cy, cx] = [rng.int(h), rng.int(w)];
  const [y0, y1] = [Math.max(0, cy - Math.floor(ch / 2)), Math.min(h, cy + Math.ceil(ch / 2))];
  const [x0, x1] = [Math.max(0, cx - Math.floor(cw / 2)), Math.min(w, cx + Math.ceil(cw / 2))];
  const lambda = 1 - ((y1 - y0) * (x1 - x0)) / (h * w);
  const perm = partners(x.shape[0], rng);
  return tf.tidy(() => {
    const box = tf.pad(tf.ones([1, y1 - y0, x1 - x0, 1]), [
      [0, 0],
      [y0, h - y1],
      [x0, w - x1],
      [0, 0],
    ]); // 1 inside the box
    return {
      x: tf.add(tf.mul(x, tf.sub(1, box)), tf.mul(tf.gather(x, perm), box)) as tf.Tensor4D,
      y: tf.add(tf.mul(y, lambda), tf.mul(tf.gather(y, perm), 1 - lambda)) as tf.Tensor2D,
      lambda,
    };
  });
}
