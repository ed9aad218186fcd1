import * as tf from '@tensorflow/tfjs';
import type { HeapBackend } from './slice';

/**
 * CvSumSquares for wasm: Σ x² over every element of every input (float32 tensors, any shapes), accumulated
 * in float64; one call for all of a model's gradients, where the composed form (Square and Sum per tensor,
 * then AddN) costs two kernels and their JavaScript per variable. The global norm of gradient clipping.
 */
export const sumSquaresWasm: tf.KernelConfig = {
  kernelName: 'CvSumSquares',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const backend = args.backend as unknown as HeapBackend;
    const out = backend.makeOutput([], 'float32'); // may grow the heap: views after it
    let sum = 0;
    for (const t of Object.values(args.inputs) as tf.TensorInfo[]) {
      const v = backend.typedArrayFromHeap(t);
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i] * v[i];
      sum += s;
    }
    backend.typedArrayFromHeap(out)[0] = sum;
    return out;
  },
};
