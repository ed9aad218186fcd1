import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, Rng, toPlainTopology } from '@cv/engine';
import { DropBlock2D, registerRegularizationLayers, SpatialDropout2D } from './layers';
import { cutmix, mixup, sampleBeta, smoothLabels } from './labels';
import { decoupledWeightDecay, l2Penalty } from './weight-decay';

const ones = () => tf.ones([8, 16, 16, 32]) as tf.Tensor4D;
const zeroFraction = (t: tf.Tensor) => tf.tidy(() => tf.mean(tf.cast(tf.equal(t, 0), 'float32')).dataSync()[0]);

describe('regularization', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
    registerRegularizationLayers();
  });

  it('spatial dropout drops ≈ rate of whole channels in training, rescales, and is the identity at inference', () => {
    const layer = new SpatialDropout2D({ rate: 0.3 });
    layer.setStepSeed(11);
    const x = ones();
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    expect(zeroFraction(y)).toBeCloseTo(0.3, 1);
    const perChannel = tf.tidy(() => tf.sum(tf.cast(tf.equal(y, 0), 'float32'), [1, 2]).dataSync()); // 0 or 256 each
    expect(Array.from(perChannel).every((v) => v === 0 || v === 256)).toBe(true);
    expect(tf.max(y).dataSync()[0]).toBeCloseTo(1 / 0.7, 5);
    expect((layer.apply(x, { training: false }) as tf.Tensor).dataSync()).toEqual(x.dataSync());
  });

  it('DropBlock drops ≈ rate in contiguous blocks, keeps the mean, and is the identity at inference', () => {
    const layer = new DropBlock2D({ rate: 0.2, blockSize: 3 });
    layer.setStepSeed(5);
    const x = ones();
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    expect(zeroFraction(y)).toBeGreaterThan(0.12);
    expect(zeroFraction(y)).toBeLessThan(0.25);
    expect(tf.mean(y).dataSync()[0]).toBeCloseTo(1, 2); // rescaled by count/kept (float32 mean of 65k values)
    expect((layer.apply(x, { training: false }) as tf.Tensor).dataSync()).toEqual(x.dataSync());
    const model = tf.sequential({ layers: [tf.layers.inputLayer({ inputShape: [16, 16, 32] }), layer] });
    expect(JSON.stringify(toPlainTopology(model.toJSON(undefined, false)))).toContain('"class_name":"Dropout"');
  });

  it('label smoothing moves ε of the mass uniformly and rows still sum to 1', () => {
    const y = smoothLabels(tf.oneHot(tf.tensor1d([2, 0], 'int32'), 4), 0.1).arraySync() as number[][];
    expect(y[0][2]).toBeCloseTo(0.925, 6);
    expect(y[0][0]).toBeCloseTo(0.025, 6);
    y.forEach((row) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6));
  });

  it('mixup and cutmix: mixed labels sum to 1 and match the pixels mixed', () => {
    const rng = new Rng(3);
    const x = tf.concat([tf.zeros([1, 8, 8, 1]), tf.ones([1, 8, 8, 1])]) as tf.Tensor4D;
    const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2) as tf.Tensor2D;
    for (const mix of [mixup, cutmix]) {
      for (let i = 0; i < 5; i++) {
        const m = mix(x, y, 1.0, rng);
        const rows = m.y.arraySync();
        rows.forEach((r) => expect(r[0] + r[1]).toBeCloseTo(1, 6));
        // image 1 is all ones: its mean pixel is the share of itself it kept (or received from itself).
        const meanPixels = tf.mean(m.x, [1, 2, 3]).arraySync() as number[];
        meanPixels.forEach((p, b) => expect(p).toBeCloseTo(rows[b][1], 5));
      }
    }
  });

  it('Beta sampling has the right mean', () => {
    const rng = new Rng(1);
    const n = 4000;
    let s = 0;
    for (let i = 0; i < n; i++) s += sampleBeta(2, 6, rng);
    expect(s / n).toBeCloseTo(0.25, 1.5);
  });

  it('decoupled weight decay shrinks weights by lr·wd per step; biases are left alone', () => {
    const kernel = tf.variable(tf.fill([3, 3], 2), true, 'dense/kernel');
    const bias = tf.variable(tf.fill([3], 2), true, 'dense/bias');
    const opt: tf.Optimizer = tf.train.adam(0.1);
    for (let step = 0; step < 3; step++) {
      opt.applyGradients({ [kernel.name]: tf.zeros([3, 3]), [bias.name]: tf.zeros([3]) }); // Adam moves nothing
      decoupledWeightDecay([kernel, bias], 0.1, 0.5);
    }
    expect(kernel.dataSync()[0]).toBeCloseTo(2 * (1 - 0.05) ** 3, 5);
    expect(bias.dataSync()[0]).toBe(2);
    expect(l2Penalty([kernel, bias], 0.01).dataSync()[0]).toBeCloseTo(0.01 * 9 * (2 * 0.95 ** 3) ** 2, 4);
  });
});
