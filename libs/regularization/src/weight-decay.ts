import * as tf from '@tensorflow/tfjs';

import { addMany, isDecayed } from '@cv/engine/core';

export { isDecayed };

/**
 * L2 penalty: λ·Σ w² over the decayed weights, to add to the loss (Keras' `l2` regulariser).
 *
 * @example
 * const loss = tf.add(ce, l2Penalty(vars, 1e-4));
 */
export function l2Penalty(weights: tf.Variable[], lambda: number): tf.Scalar {
  const decayed = weights.filter((w) => isDecayed(w.name));
  if (lambda === 0 || decayed.length === 0) return tf.scalar(0);
  return tf.mul(lambda, addMany(decayed.map((w) => tf.sum(tf.square(w))))) as tf.Scalar;
}

/** Decoupled weight decay lives with the optimisation step in the engine. */
export { decoupledWeightDecay } from '@cv/engine/core';
