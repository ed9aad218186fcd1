import * as tf from '@tensorflow/tfjs';

/**
 * Wraps every kernel registered for `backend` with a clock: `onCall(kernelName, ms, args)` after each call. The
 * kernel profiles (`bench:kernels`, `bench:step`) charge those times to kernels or to the part of a step running.
 */
export function instrumentKernels(backend: string, onCall: (kernel: string, ms: number, args: Parameters<tf.KernelFunc>[0]) => void): void {
  for (const k of tf.getKernelsForBackend(backend)) {
    const run = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = run(args);
        onCall(k.kernelName, performance.now() - t0, args);
        return out;
      },
    });
  }
}
