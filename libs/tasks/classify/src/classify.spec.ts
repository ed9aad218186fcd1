import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { listReferenceBackbones } from '@cv/backbones';
import { createClassifier, listClassifiers } from './models';
import { ClassificationPredictor } from './predictor';

describe('classification models', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it.each(listClassifiers())('%s maps a batch of images to class probabilities', (name) => {
    // The torchvision layouts take RGB; the suite's own models gray 28×28 too.
    const shape: [number, number, number] = listReferenceBackbones().includes(name) ? [32, 32, 3] : [28, 28, 1];
    const model = createClassifier(name, { inputShape: shape, numClasses: 10, seed: 0 });
    const probs = tf.tidy(() => (model.predict(tf.zeros([2, ...shape])) as tf.Tensor).arraySync() as number[][]);
    expect(probs.length).toBe(2);
    expect(probs[0].length).toBe(10);
    expect(probs[0].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    model.dispose();
  });

  it('the same seed gives the same initial weights', () => {
    const a = createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
    const b = createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 3 });
    expect(Array.from(a.getWeights()[0].dataSync())).toEqual(Array.from(b.getWeights()[0].dataSync()));
    a.dispose();
    b.dispose();
  });

  it("the reference CNN's BatchNorm moves its statistics 10 % per step (PyTorch's default), not tfjs's 1 %", () => {
    const model = createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    const bn = model.getLayer('bn');
    tf.tidy(() => bn.apply(tf.fill([2, 7, 7, 64], 2), { training: true }) as tf.Tensor);
    const movingMean = bn.getWeights()[2].dataSync();
    expect(movingMean[0]).toBeCloseTo(0.2, 5); // 0 + (2 − 0)·(1 − 0.9)
    model.dispose();
  });

  it('an unknown model lists the available ones', () => {
    expect(() => createClassifier('resnet-99', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 })).toThrow(
      /available: simple-cnn, reference-cnn, vgg-s, resnet-s, mobilenetv2-s, csp-s, csp-t, csp-m/,
    );
  });

  it('the predictor takes images of any size and channel count, returns sorted top-k and leaks no tensors', async () => {
    const model = createClassifier('simple-cnn', { inputShape: [8, 8, 1], numClasses: 3, seed: 0 });
    model.setUserDefinedMetadata({ task: 'classify', classNames: ['a', 'b', 'c'], inputShape: [8, 8, 1] });
    const predictor = new ClassificationPredictor(model);
    const grey = { data: Uint8Array.from({ length: 64 }, (_, i) => i * 4), width: 8, height: 8, channels: 1 as const };
    const rgba = { data: Uint8Array.from({ length: 20 * 12 * 4 }, (_, i) => (i * 7) % 256), width: 20, height: 12, channels: 4 as const };
    predictor.predict([grey]); // warm-up
    const before = tf.memory();
    const [p, q] = predictor.predict([grey, rgba], 2);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(await predictor.predictAsync([grey, rgba], 2), 'asynchronous read-back path').toEqual([p, q]);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(p.topK.length).toBe(2);
    expect(p.topK[0].probability).toBeGreaterThanOrEqual(p.topK[1].probability);
    expect(p.label).toBe(p.topK[0].label);
    expect(q.topK.length).toBe(2);
    // A grey image at the model's size is used as is: the same answer alone or in a batch.
    expect(predictor.predict([grey])[0].probability).toBeCloseTo(p.probability, 6);
    expect(() => predictor.predict([{ data: new Uint8Array(10), width: 8, height: 8, channels: 1 }])).toThrow(/image 0: 10 bytes for 8×8×1/);
    model.dispose();
  });
});

describe('ClassificationTask.shard (data-parallel replicas)', () => {
  it('splits a batch into contiguous blocks that cover every row once', async () => {
    const { ClassificationTask } = await import('./step');
    const model = createClassifier('simple-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
    const task = new ClassificationTask(model, tf.train.adam(1e-3), null as never);
    const x = tf.tensor4d(
      Float32Array.from({ length: 7 * 784 }, (_, i) => Math.floor(i / 784)),
      [7, 28, 28, 1],
    );
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6], 'int32');
    const parts = [0, 1, 2].map((r) => task.shard({ x, y }, r, 3));
    expect(parts.map((p) => Array.from(p.y.dataSync()))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5, 6],
    ]);
    expect(parts[2].x.dataSync()[784]).toBe(5); // second row of the last block is image 5
    parts.forEach((p) => task.disposeBatch(p));
    tf.dispose([x, y]);
    model.dispose();
  });
});
