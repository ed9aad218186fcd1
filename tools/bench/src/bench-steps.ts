import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '@cv/tasks-classify';
import type { BenchNet } from './architectures';

/** A bench network ready to step: one Adam training step or one prediction, each waiting for its result. */
export interface BenchSteps {
  train(): void;
  infer(): void;
  dispose(): void;
}

/**
 * Builds `net` with a fixed random batch and target (seeded) and Adam 1e-3 — the step that `bench:engine`
 * times and `bench:kernels` profiles, identical in both.
 *
 * @example
 * const s = benchSteps(BENCH_NETS[0]); s.train(); s.infer(); s.dispose();
 */
export function benchSteps(net: BenchNet): BenchSteps {
  const model = net.build();
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([net.batch, ...net.inputShape], 0, 1, 'float32', 1);
  const outShape = model.outputs[0].shape.slice(1) as number[];
  const y =
    net.loss === 'ce'
      ? tf.oneHot(tf.randomUniform([net.batch], 0, outShape[0], 'int32', 2), outShape[0])
      : tf.randomUniform([net.batch, ...outShape], 0, 1, 'float32', 2);
  const lossOf = (out: tf.Tensor) => (net.loss === 'ce' ? crossEntropy(y, out) : (tf.mean(tf.square(tf.sub(out, y))) as tf.Scalar));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return {
    train: () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => lossOf(model.apply(x, { training: true }) as tf.Tensor), vars);
        optimizer.applyGradients(grads);
        return value;
      });
      loss.dataSync();
      loss.dispose();
    },
    // Not `tf.tidy(() => t.dataSync())`: tidy walks whatever its function returns looking for tensors,
    // index by index for a typed array (0.7 s for a 0.8 M-element output).
    infer: () => {
      const out = tf.tidy(() => model.predict(x) as tf.Tensor);
      out.dataSync();
      out.dispose();
    },
    dispose: () => {
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
    },
  };
}
