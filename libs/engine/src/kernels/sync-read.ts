import * as tf from '@tensorflow/tfjs';

/**
 * Does `backend` (default: the current one) read tensors back synchronously? cpu, wasm and tensorflow do; WebGPU
 * in Node cannot (tfjs's synchronous path needs OffscreenCanvas) and in a browser only slowly, WebGL likewise.
 * Code that reads back inside a step or a loss takes its asynchronous form where this is false.
 */
export function readsBackSync(backend: string = tf.getBackend()): boolean {
  return backend === 'cpu' || backend === 'wasm' || backend === 'tensorflow';
}
