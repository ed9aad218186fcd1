import * as tf from '@tensorflow/tfjs';

/**
 * wasm's BatchMatMul is fast only without transposes (transposeA runs ~10× slower than an explicit
 * Transpose followed by a plain matmul). Every Dense/MatMul gradient asks for a transpose, so this
 * wrapper makes them explicit and hands the plain product to wasm's own kernel.
 */
export function explicitTransposeBatchMatMul(original: tf.KernelConfig): tf.KernelConfig {
  const swapLast = (t: tf.Tensor) => {
    const perm = t.shape.map((_, i) => i);
    [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
    return tf.transpose(t, perm);
  };
  return {
    ...original,
    kernelFunc: (args) => {
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return original.kernelFunc(args);
      const a = args.inputs.a as tf.Tensor;
      const b = args.inputs.b as tf.Tensor;
      const out = tf.tidy(() => tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b));
      (args.backend as unknown as { incRef(id: object): void }).incRef(out.dataId);
      const result = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
      out.dispose();
      return result;
    },
  };
}
