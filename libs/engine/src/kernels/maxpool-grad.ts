import * as tf from '@tensorflow/tfjs';
import { convGeometry } from './conv-geometry';

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
  return tf.pad(dx, [
    [0, 0],
    [0, h - oh * kh],
    [0, w - ow * kw],
    [0, 0],
  ]);
}

/**
 * MaxPoolGrad as one pass over typed arrays: for each output position, the first maximum of its window
 * (row-major window order, strictly greater wins, padding ignored — the cpu backend's rule) receives that
 * position's dy. Memory-bound work that the composed forms spread over k·k compare/multiply passes and
 * four transposes; here it is one read of x and dy and one write of dx. A window holding only -∞ (or
 * NaN) routes nothing, as on cpu.
 */
export function scanMaxPoolGrad(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const x = inputs.input as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const [kh, kw] = pair(attrs.filterSize);
  const [n, h, w, c] = x.shape;
  const info = convGeometry(x.shape, [kh, kw, c, c], attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, true);
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const xs = x.dataSync() as Float32Array;
  const dys = dy.dataSync() as Float32Array;
  const dx = new Float32Array(xs.length);
  const best = new Float64Array(c);
  const where = new Int32Array(c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yLo = Math.max(0, y0);
      const yHi = Math.min(h, y0 + kh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - left;
        const xLo = Math.max(0, x0);
        const xHi = Math.min(w, x0 + kw);
        const o = ((b * oh + oy) * ow + ox) * c;
        if (yLo >= yHi || xLo >= xHi) continue;
        // The window's first element initialises the running maximum (NaN and -∞ never win, as on cpu).
        const first = ((b * h + yLo) * w + xLo) * c;
        for (let ch = 0; ch < c; ch++) {
          const v = xs[first + ch];
          const ok = v > -Infinity;
          best[ch] = ok ? v : -Infinity;
          where[ch] = ok ? first + ch : -1;
        }
        for (let iy = yLo; iy < yHi; iy++) {
          for (let ix = iy === yLo ? xLo + 1 : xLo; ix < xHi; ix++) {
            const base = ((b * h + iy) * w + ix) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xs[base + ch];
              if (v > best[ch]) {
                best[ch] = v;
                where[ch] = base + ch;
              }
            }
          }
        }
        for (let ch = 0; ch < c; ch++) {
          const at = where[ch];
          if (at >= 0) dx[at] += dys[o + ch];
        }
      }
    }
  }
  return tf.tensor4d(dx, x.shape);
}

/**
 * MaxPoolGrad on wasm: plain slices when windows tile (the composed form is faster there than a
 * typed-array pass: 20 vs 24 ms for 64×28×28×32, 2×2/2), one typed-array pass otherwise (overlapping
 * or padded windows: 3×3/2 same on 8×64×64×32 takes 17–21 ms instead of 320–370 ms with the k·k strided
 * compare/spread passes it replaces).
 */
export function maxPoolGrad(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  return isTilingPool(inputs.input.shape, attrs) ? tilingMaxPoolGrad(inputs, attrs) : scanMaxPoolGrad(inputs, attrs);
}
