import * as tf from '@tensorflow/tfjs';
import type { HeapBackend } from './slice';

/**
 * UnsortedSegmentSum for wasm, which lacks it (so the gradient of `tf.gather` failed there): row r of `x`
 * (the axes after `segmentIds`' own) is added to output row `segmentIds[r]`; ids outside [0, numSegments) are
 * dropped, as TensorFlow does.
 */
export const unsortedSegmentSumWasm: tf.KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { x, segmentIds } = args.inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = args.attrs as unknown as { numSegments: number };
    const backend = args.backend as unknown as HeapBackend;
    const rows = tf.util.sizeFromShape(segmentIds.shape);
    const inner = rows ? tf.util.sizeFromShape(x.shape) / rows : 0;
    const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype); // may grow the heap: views after it
    const ov = backend.typedArrayFromHeap(out);
    ov.fill(0);
    const xv = backend.typedArrayFromHeap(x);
    const ids = backend.typedArrayFromHeap(segmentIds);
    for (let r = 0; r < rows; r++) {
      const s = ids[r];
      if (s < 0 || s >= numSegments) continue;
      const o = s * inner;
      const i = r * inner;
      for (let k = 0; k < inner; k++) ov[o + k] += xv[i + k];
    }
    return out;
  },
};
