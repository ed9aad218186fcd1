import * as tf from '@tensorflow/tfjs';
import type { HeapBackend } from './slice';

/**
 * CvMovingAverage for wasm: moving − (moving − value)·(1 − momentum), rounded to float32 after each
 * operation exactly as the three tfjs ops tfjs-layers' BatchNormalization uses (Sub, Mul by a scalar,
 * Sub), in one kernel and without uploading the scalar. BatchNorm's running statistics, every training step.
 */
export const movingAverageWasm: tf.KernelConfig = {
  kernelName: 'CvMovingAverage',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { moving, value } = args.inputs as { moving: tf.TensorInfo; value: tf.TensorInfo };
    const { momentum } = args.attrs as unknown as { momentum: number };
    const backend = args.backend as unknown as HeapBackend;
    const out = backend.makeOutput(moving.shape, 'float32'); // may grow the heap: views after it
    const m = backend.typedArrayFromHeap(moving);
    const v = backend.typedArrayFromHeap(value);
    const o = backend.typedArrayFromHeap(out);
    const k = Math.fround(1 - momentum);
    const f = Math.fround;
    for (let i = 0; i < o.length; i++) o[i] = f(m[i] - f(f(m[i] - v[i]) * k));
    return out;
  },
};
