import * as tf from '@tensorflow/tfjs';

/** The reduction axes, normalised and sorted; null unless they are exactly the leading axes 0..k-1 (k < rank). */
export function leadingAxes(shape: number[], axis: number | number[]): number | null {
  const rank = shape.length;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  if (axes.length === 0 || axes.length >= rank) return null;
  return axes.every((a, i) => a === i) ? axes.length : null;
}

/**
 * Sum over the leading axes (a bias or BatchNorm gradient: [N, H, W, C] → [C]) as ones[1, M] × x[M, C] on
 * wasm's matmul. wasm's own Sum first transposes the reduced axes innermost, one element at a time.
 */
export function leadingAxesSum(inputs: Record<string, tf.Tensor>, attrs: Record<string, any>): tf.Tensor {
  const x = inputs.x;
  const k = leadingAxes(x.shape, attrs.axis)!;
  const m = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
  const rest = x.shape.slice(k);
  const c = rest.reduce((a, b) => a * b, 1);
  const summed = tf.matMul(tf.ones([1, m]), tf.reshape(x, [m, c]));
  return tf.reshape(summed, attrs.keepDims ? [...new Array(k).fill(1), ...rest] : rest);
}
