import * as tf from '@tensorflow/tfjs';

/** The reduction axes, normalised and sorted; null unless they are exactly the leading axes 0..k-1 (k < rank). */
export function leadingAxes(shape: number[], axis: number | number[]): number | null {
  const rank = shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return null;
  return axes.every((a, i) => a === i) ? axes.length : null;
}

/**
 * Sum over the leading axes (a bias or BatchNorm gradient: [N, H, W, C] → [C]) by pairwise halving:
 * add the top half of the rows to the bottom half until one row is left (contiguous slices and adds,
 * ~2 passes over the data). wasm's own Sum first transposes the reduced axes innermost element by
 * element, and a ones-vector matmul repacks the whole matrix on every call.
 */
export function leadingAxesSum(inputs: Record<string, tf.Tensor>, attrs: Record<string, any>): tf.Tensor {
  const x = inputs.x;
  const k = leadingAxes(x.shape, attrs.axis)!;
  let rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(k);
  const c = rest.reduce((a, b) => a * b, 1);
  let t: tf.Tensor = tf.reshape(x, [rows, c]);
  let leftover: tf.Tensor | null = null; // odd rows set aside at each level
  while (rows > 1) {
    if (rows % 2 === 1) {
      const last = tf.slice(t, [rows - 1, 0], [1, c]);
      leftover = leftover ? tf.add(leftover, last) : last;
      rows -= 1;
    }
    const half = rows / 2;
    t = tf.add(tf.slice(t, [0, 0], [half, c]), tf.slice(t, [half, 0], [half, c]));
    rows = half;
  }
  if (leftover) t = tf.add(t, leftover);
  return tf.reshape(t, attrs.keepDims ? [...new Array(k).fill(1), ...rest] : rest);
}

/** True when Tile only repeats axes of size 1: a broadcast, done as zeros + x by wasm's broadcasting Add. */
export function isBroadcastTile(shape: number[], reps: number[]): boolean {
  return shape.length === reps.length && shape.every((d, i) => d === 1 || reps[i] === 1);
}

/** Tile as a broadcast (wasm's Tile kernel copies element by element in JS). */
export function broadcastTile(inputs: Record<string, tf.Tensor>, attrs: Record<string, any>): tf.Tensor {
  const x = inputs.x;
  const outShape = x.shape.map((d, i) => d * attrs.reps[i]);
  return tf.add(tf.zeros(outShape, x.dtype), x);
}
