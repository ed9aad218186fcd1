import * as tf from '@tensorflow/tfjs';
import { compositeKernel } from './composite';

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
  const explicit = compositeKernel('BatchMatMul', 'wasm', ({ a, b }, attrs) =>
    tf.matMul(attrs.transposeA ? swapLast(a) : a, attrs.transposeB ? swapLast(b) : b),
  );
  return {
    ...original,
    kernelFunc: (args) => {
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      return transposeA || transposeB ? explicit.kernelFunc(args) : original.kernelFunc(args);
    },
  };
}
