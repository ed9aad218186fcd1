import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { bceFake, bceReal } from './step';

beforeAll(async () => {
  await initBackend({ log: false });
});

it('the discriminator and generator losses equal tf.losses.sigmoidCrossEntropy on the same logits (smoothed target too)', () => {
  const logits = tf.tensor2d([[-3.2], [-0.4], [0], [0.7], [5.5], [12]]);
  const mean = (t: tf.Tensor) => t.dataSync()[0];
  for (const target of [1, 0.9]) {
    const ref = tf.losses.sigmoidCrossEntropy(tf.fill([6, 1], target), logits);
    expect(mean(bceReal(logits, target))).toBeCloseTo(mean(ref), 6);
  }
  expect(mean(bceFake(logits))).toBeCloseTo(mean(tf.losses.sigmoidCrossEntropy(tf.zeros([6, 1]), logits)), 6);
});
