import * as tf from '@tensorflow/tfjs';

/** The two tfjs-backend-wasm members the heap-view kernels use: allocate an output, view a tensor in the heap. */
export interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Slice for wasm that copies only what it returns. wasm's own Slice first copies the *whole* input out
 * of the heap (`readSync`), so taking one row of a large tensor costs as much as copying all of it;
 * this one reads through a heap view and copies whole innermost rows.
 */
export function heapViewSlice(original: tf.KernelConfig): tf.KernelConfig {
  return {
    ...original,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return original.kernelFunc(args);
      const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
      const backend = args.backend as unknown as HeapBackend;
      const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
      const out = backend.makeOutput(s, x.dtype); // may grow the heap: take views after it
      const total = tf.util.sizeFromShape(s);
      if (total === 0) return out;
      const xv = backend.typedArrayFromHeap(x);
      const ov = backend.typedArrayFromHeap(out);
      const strides = tf.util.computeStrides(x.shape);
      if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
        const offset = tf.slice_util.computeFlatOffset(b, strides);
        ov.set(xv.subarray(offset, offset + total));
        return out;
      }
      // Rows = the innermost run that is contiguous in both: the last partially taken axis and every
      // (fully taken) axis after it.
      let inner = s.length - 1;
      while (inner > 0 && s[inner] === x.shape[inner] && b[inner] === 0) inner--;
      const row = s.slice(inner).reduce((p, v) => p * v, 1);
      const rows = total / row;
      const idx = new Array<number>(inner).fill(0); // position among the outer axes
      const start = b[inner] * (inner < s.length - 1 ? strides[inner] : 1); // computeStrides omits the last axis
      for (let r = 0; r < rows; r++) {
        let offset = start;
        for (let d = 0; d < inner; d++) offset += (b[d] + idx[d]) * strides[d];
        if (row < 16) for (let k = 0; k < row; k++) ov[r * row + k] = xv[offset + k];
        else ov.set(xv.subarray(offset, offset + row), r * row);
        for (let d = inner - 1; d >= 0; d--) {
          if (++idx[d] < s[d]) break;
          idx[d] = 0;
        }
      }
      return out;
    },
  };
}
