import * as tf from '@tensorflow/tfjs';
import { convGeometry, padOrCrop, tapSlices, zeroInsert } from './conv-geometry';

type Attrs = Record<string, any>;

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1]] : [v, v]);

/**
 * True when windows tile the input without overlap or padding (window == stride, e.g. the usual 2×2/2
 * pooling): the case `tilingMaxPoolGrad` computes with plain slices.
 */
export function isTilingPool(inputShape: number[], attrs: Attrs): boolean {
  const [kh, kw] = pair(attrs.filterSize);
  const [sh, sw] = pair(attrs.strides);
  if (kh !== sh || kw !== sw) return false;
  if (attrs.pad === 'valid') return true;
  return attrs.pad === 'same' && inputShape[1] % sh === 0 && inputShape[2] % sw === 0;
}

/**
 * MaxPoolGrad for tiling windows: dy goes to the *first* maximum of each window (the element tfjs's
 * argmax picks), found by comparing the k·k window elements with the pooled output in window order.
 * Two 4-D transposes lay x out as [kw·kh, N·outH·outW·C] so that each window position is a contiguous
 * row (wasm slices it with one copy; its transposes above rank 4 fall back to slow JS); the k·k gradient
 * rows are transposed back the same way.
 * Rows/columns that `valid` pooling dropped get zero.
 */
export function tilingMaxPoolGrad(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const x = inputs.input as tf.Tensor4D;
  const pooled = inputs.output as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const [kh, kw] = pair(attrs.filterSize);
  const [n, h, w, c] = x.shape;
  const [, oh, ow] = pooled.shape;
  const m = n * oh * ow * c;
  const covered = oh * kh === h && ow * kw === w ? x : tf.slice(x, [0, 0, 0, 0], [n, oh * kh, ow * kw, c]);
  const byKw = tf.transpose(tf.reshape(covered, [n * oh * kh, ow, kw, c]), [2, 0, 1, 3]); // [kw, N·oh·kh, ow, C]
  const windows = tf.reshape(tf.transpose(tf.reshape(byKw, [kw, n * oh, kh, ow * c]), [0, 2, 1, 3]), [kw * kh, m]); // row b·kh+a
  const pooledRow = tf.reshape(pooled, [1, m]);
  const dyRow = tf.reshape(dy, [1, m]);
  // Float arithmetic only: wasm's boolean kernels (Equal, LogicalAnd, Select) are ~20× slower than Mul.
  let unclaimed: tf.Tensor = tf.onesLike(dyRow); // 1 where no earlier position held the window's max
  const rows: tf.Tensor[] = new Array(kh * kw);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const row = b * kh + a;
      const isMax = tf.sub(1, tf.step(tf.sub(pooledRow, tf.slice(windows, [row, 0], [1, m])))); // pooled ≥ x: 1 where equal
      const first = tf.mul(isMax, unclaimed);
      unclaimed = tf.sub(unclaimed, first);
      rows[row] = tf.mul(first, dyRow);
    }
  }
  const grads = tf.reshape(tf.concat(rows, 0), [kw, kh, n * oh, ow * c]);
  const back = tf.reshape(tf.transpose(grads, [0, 2, 1, 3]), [kw, n * oh * kh, ow, c]);
  const dx = tf.reshape(tf.transpose(back, [1, 2, 0, 3]), [n, oh * kh, ow * kw, c]) as tf.Tensor4D;
  if (oh * kh === h && ow * kw === w) return dx;
  return tf.pad(dx, [[0, 0], [0, h - oh * kh], [0, w - ow * kw], [0, 0]]);
}

/**
 * MaxPoolGrad for any window/stride/padding: the input is padded with -∞, each tap's strided view is
 * compared with the pooled output (first maximum in row-major window order wins, as on the cpu
 * backend), and each tap's gradient is spread back by its stride and offset and summed (windows overlap).
 */
export function generalMaxPoolGrad(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const x = inputs.input as tf.Tensor4D;
  const pooled = inputs.output as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const [kh, kw] = pair(attrs.filterSize);
  const info = convGeometry(x.shape, [kh, kw, x.shape[3], x.shape[3]], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true);
  const { top, bottom, left, right } = info.padInfo;
  const [, h, w] = x.shape;
  const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]], -Infinity);
  let unclaimed: tf.Tensor = tf.onesLike(dy);
  let dx: tf.Tensor4D | null = null;
  tapSlices(padded, info).forEach((view, t) => {
    const [a, b] = [Math.floor(t / kw), t % kw];
    const first = tf.mul(tf.sub(1, tf.step(tf.sub(pooled, view))), unclaimed);
    unclaimed = tf.sub(unclaimed, first);
    const spread = zeroInsert(tf.mul(first, dy) as tf.Tensor4D, info.strideHeight, info.strideWidth);
    const [, hs, ws] = spread.shape;
    const placed = padOrCrop(spread, a - top, h - (a - top) - hs, b - left, w - (b - left) - ws);
    dx = dx ? (tf.add(dx, placed) as tf.Tensor4D) : placed;
  });
  return dx!;
}

/** MaxPoolGrad on the engine's composed path: plain slices when windows tile, the general form otherwise. */
export function maxPoolGrad(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  return isTilingPool(inputs.input.shape, attrs) ? tilingMaxPoolGrad(inputs, attrs) : generalMaxPoolGrad(inputs, attrs);
}
