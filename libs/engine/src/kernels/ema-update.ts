import * as tf from '@tensorflow/tfjs';
import type { HeapBackend } from './slice';

/**
 * CvEmaUpdate for wasm: the weight average's update, ema ← d·ema + (1 − d)·w, for every pair of a model at once
 * (inputs `e0, w0, e1, w1, …`, float32; attribute `decay`; one output per pair). The composed form costs two
 * Multiply and one Add kernel, with their JavaScript, per weight (~1,000 kernels for a 327-weight detector). The same
 * float32 arithmetic: each product rounded to float32, then their sum (a product of two float32 values is exact in
 * a double, and a double sum rounded once to float32 is the float32 sum), so the weights equal the composed form's
 * bit for bit. Where the oneDNN addon is loaded its native `emaUpdate` (native/ema.cc, the same float32 arithmetic,
 * in parallel) runs instead and this loop is its fallback.
 */
export const emaUpdateWasm: tf.KernelConfig = {
  kernelName: 'CvEmaUpdate',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const backend = args.backend as unknown as HeapBackend;
    const inputs = args.inputs as Record<string, tf.TensorInfo>;
    const n = Object.keys(inputs).length / 2;
    const decay = Number(args.attrs!.decay);
    const d = Math.fround(decay);
    const rest = Math.fround(1 - decay);
    const outs = Array.from({ length: n }, (_, i) => backend.makeOutput(inputs[`e${i}`].shape, 'float32')); // may grow the heap: views after
    outs.forEach((out, i) => {
      const e = backend.typedArrayFromHeap(inputs[`e${i}`]);
      const w = backend.typedArrayFromHeap(inputs[`w${i}`]);
      const o = backend.typedArrayFromHeap(out);
      for (let j = 0; j < o.length; j++) o[j] = Math.fround(e[j] * d) + Math.fround(w[j] * rest);
    });
    return outs;
  },
};
