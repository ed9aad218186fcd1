import type * as tf from '@tensorflow/tfjs';

export { readsBackSync } from '../kernels/sync-read';

/**
 * A computation that reads tensors back, written once for synchronous and asynchronous backends: it yields each
 * tensor whose values it needs and receives them (the caller of `yield` still owns and disposes the tensor).
 * `readSync` drives it with `dataSync` (cpu, wasm, tensorflow), `readAsync` with `await data()` (WebGPU, which
 * has no synchronous read in Node and only a slow canvas one in browsers).
 *
 * @example
 * function* top(model: tf.LayersModel, x: tf.Tensor): Reads<number> {
 *   const out = model.predict(x) as tf.Tensor;
 *   const p = yield out;
 *   out.dispose();
 *   return p.indexOf(Math.max(...p));
 * }
 * const best = readSync(top(model, x)); // or: await readAsync(top(model, x))
 */
export type Reads<T> = Generator<tf.Tensor, T, tf.TypedArray>;

export function readSync<T>(steps: Reads<T>): T {
  let r = steps.next();
  while (!r.done) r = steps.next(r.value.dataSync());
  return r.value;
}

export async function readAsync<T>(steps: Reads<T>): Promise<T> {
  let r = steps.next();
  while (!r.done) r = steps.next(await r.value.data());
  return r.value;
}
