import * as tf from '@tensorflow/tfjs';

/** Weights that decay: kernels of conv/dense layers (not biases, BatchNorm scales or shifts), as is usual. */
export const isDecayed = (name: string): boolean => /kernel|depthwise_kernel/.test(name) && !/(bias|gamma|beta|moving)/.test(name);

/**
 * L2 penalty: λ·Σ w² over the decayed weights, to add to the loss (Keras' `l2` regulariser).
 *
 * @example
 * const loss = tf.add(ce, l2Penalty(vars, 1e-4));
 */
export function l2Penalty(weights: tf.Variable[], lambda: number): tf.Scalar {
  const decayed = weights.filter((w) => isDecayed(w.name));
  if (lambda === 0 || decayed.length === 0) return tf.scalar(0);
  return tf.mul(lambda, tf.addN(decayed.map((w) => tf.sum(tf.square(w))))) as tf.Scalar;
}

/**
 * Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): after the optimizer step, w ← w − lr·wd·w for
 * the decayed weights, independent of the gradient's scaling by Adam.
 *
 * @example
 * optimizer.applyGradients(grads); decoupledWeightDecay(vars, lr, 1e-4);
 */
export function decoupledWeightDecay(weights: tf.Variable[], lr: number, wd: number): void {
  if (wd === 0) return;
  const factor = 1 - lr * wd;
  tf.tidy(() => {
    for (const w of weights) if (isDecayed(w.name)) w.assign(tf.mul(w, factor));
  });
}
