/**
 * The production classification step (mixup / CutMix, label smoothing, L2, decoupled weight decay, two
 * parameter groups at their own rates) against the same update composed by hand from tfjs ops, and for
 * leaks; its loss against tf.metrics.categoricalCrossentropy.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { deriveSeed, initBackend, Rng, stepContext } from '@cv/engine';
import { cutmix, l2Penalty, mixup, smoothLabels } from '@cv/regularization';
import { ClassificationTask, crossEntropy } from './step';

beforeAll(async () => {
  await initBackend({ log: false });
});

function model(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 4, 1] }),
      tf.layers.dense({ units: 5, activation: 'relu', kernelInitializer: init(1), name: `body_fc${seed}` }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(2), name: `head_fc${seed}` }),
    ],
  });
}

const batch = () => ({
  x: tf.tensor4d(
    Float32Array.from({ length: 6 * 16 }, (_, i) => ((i * 7919) % 101) / 101),
    [6, 4, 4, 1],
  ),
  y: tf.tensor1d([0, 1, 2, 2, 1, 0], 'int32'),
});
const reg = { mixup: 0.4, cutmix: 1, labelSmoothing: 0.1, l2: 1e-3, weightDecay: 0.05 };

it('cross-entropy equals tf.metrics.categoricalCrossentropy', () => {
  const y = tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3);
  const p = tf.tensor2d([
    [0.7, 0.2, 0.1],
    [0.05, 0.05, 0.9],
    [0.3, 0.3, 0.4],
  ]);
  expect(crossEntropy(y, p).dataSync()[0]).toBeCloseTo(tf.mean(tf.metrics.categoricalCrossentropy(y, p)).dataSync()[0], 6);
});

it('one step with mixing, smoothing, L2, weight decay and two groups equals the update composed by hand', async () => {
  for (const step of [0, 1, 2, 3]) {
    const a = model(10 + step);
    const b = model(10 + step);
    b.setWeights(a.getWeights());
    const isHead = (n: string) => n.startsWith('head_');
    const task = new ClassificationTask(a, tf.train.sgd(0.1), null as never, {
      optimizers: { head: tf.train.sgd(0.1), backbone: tf.train.sgd(0.01) },
      groupsForEpoch: () => [
        { optimizer: 'head', owns: isHead },
        { optimizer: 'backbone', owns: (n) => !isHead(n) },
      ],
      seed: 4,
      regularization: reg,
    });
    const { x, y } = batch();
    await task.trainStep({ x, y }, stepContext(step));
    // By hand: the same draw (mixup or CutMix, chosen by the step's RNG), smoothed targets, CE + L2, then
    // w ← w − lr·g and w ← w·(1 − lr·wd) for kernels only.
    const vars = b.trainableWeights.map((w) => w.read() as tf.Variable);
    tf.tidy(() => {
      const rng = new Rng(deriveSeed(4, 'mix', step));
      const useCutmix = rng.next() < 0.5;
      const mixed = useCutmix ? cutmix(x, tf.oneHot(y, 3) as tf.Tensor2D, reg.cutmix, rng) : mixup(x, tf.oneHot(y, 3) as tf.Tensor2D, reg.mixup, rng);
      const target = smoothLabels(mixed.y, reg.labelSmoothing);
      const { grads } = tf.variableGrads(
        () => tf.add(crossEntropy(target, b.apply(mixed.x, { training: true }) as tf.Tensor), l2Penalty(vars, reg.l2)) as tf.Scalar,
        vars,
      );
      for (const v of vars) {
        const lr = isHead(v.name) ? 0.1 : 0.01;
        const decay = /kernel/.test(v.name) ? 1 - lr * reg.weightDecay : 1;
        v.assign(tf.mul(tf.sub(v, tf.mul(grads[v.name], lr)), decay));
      }
    });
    const got = a
      .getWeights()
      .map((w) => Array.from(w.dataSync()))
      .flat();
    const want = b
      .getWeights()
      .map((w) => Array.from(w.dataSync()))
      .flat();
    expect(Math.max(...got.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-6);
    expect(
      got.some(
        (v, i) =>
          v !==
          Array.from(
            model(10 + step)
              .getWeights()
              .map((w) => Array.from(w.dataSync()))
              .flat(),
          )[i],
      ),
    ).toBe(true);
    tf.dispose([x, y]);
    a.dispose();
    b.dispose();
  }
});

it('the production step leaks neither tensors nor data buffers', async () => {
  const a = model(1);
  const task = new ClassificationTask(a, tf.train.adam(1e-2), null as never, {
    optimizers: { head: tf.train.adam(1e-2), backbone: tf.train.adam(1e-3) },
    groupsForEpoch: () => [
      { optimizer: 'head', owns: (n) => n.startsWith('head_') },
      { optimizer: 'backbone', owns: (n) => !n.startsWith('head_') },
    ],
    regularization: reg,
    clipNorm: 1,
    accumulate: 2,
  });
  const b0 = batch();
  await task.trainStep(b0, stepContext(0, 0, 0, 2));
  await task.trainStep(b0, stepContext(1, 0, 1, 2)); // optimizer slots exist from here on
  const before = tf.memory();
  for (let i = 2; i < 8; i++) await task.trainStep(b0, stepContext(i, 1, i % 2, 2));
  expect(tf.memory().numTensors).toBe(before.numTensors);
  expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  tf.dispose([b0.x, b0.y]);
  a.dispose();
});
