import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** Test helpers: kernels run on a backend from plain arrays and compared with the `cpu` backend. */

/** Deterministic pseudo-random values in [-1, 1). */
export function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export type Inputs = Record<string, { shape: number[]; data: Float32Array | Int32Array; dtype?: 'float32' | 'int32' }>;

/** Runs one kernel on a backend from plain arrays; returns its output values and shape. */
export async function run(backend: string, kernel: string, inputs: Inputs, attrs: object) {
  await tf.setBackend(backend);
  const tensors = Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [k, tf.tensor(v.data, v.shape, v.dtype ?? (v.data instanceof Int32Array ? 'int32' : 'float32'))]),
  );
  const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor;
  const result = { shape: out.shape, dtype: out.dtype, data: (await out.data()) as Float32Array };
  out.dispose();
  Object.values(tensors).forEach((t) => t.dispose());
  return result;
}

/** max |a-b| / max |b|: the error relative to the reference's scale. */
export function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** The kernel on wasm equals it on cpu: same shape, max relative error ≤ 1e-5. */
export async function compare(kernel: string, inputs: Inputs, attrs: object) {
  const ref = await run('cpu', kernel, inputs, attrs);
  const got = await run('wasm', kernel, inputs, attrs);
  expect(got.shape).toEqual(ref.shape);
  expect(got.dtype).toBe(ref.dtype);
  if (ref.dtype === 'int32')
    expect(Array.from(got.data)).toEqual(Array.from(ref.data)); // integers: exact
  else expect(relativeError(got.data, ref.data)).toBeLessThanOrEqual(1e-5);
}
