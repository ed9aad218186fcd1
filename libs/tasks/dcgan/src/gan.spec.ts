import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, type ClassificationSet } from '@cv/data';
import { initBackend, stepContext } from '@cv/engine';
import { createDiscriminator, createGenerator, type DcganSpec, GanTask, generateImages, imageGrid, latentVectors, upsamplings } from './index';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: false });
});

const spec = (imageShape: [number, number, number], numClasses = 0): DcganSpec => ({ imageShape, latentDim: 16, width: 8, numClasses, seed: 1 });

describe('DCGAN models', () => {
  it.each([
    [[28, 28, 1], 0],
    [[32, 32, 3], 0],
    [[28, 28, 1], 10],
    [[32, 32, 3], 5],
  ] as const)('%j (classes %i): G maps z to an image in [-1, 1], D maps it to one logit', (shape, k) => {
    const s = spec([...shape] as [number, number, number], k);
    const g = createGenerator(s);
    const d = createDiscriminator(s);
    expect(g.outputs[0].shape).toEqual([null, ...shape]);
    expect(d.outputs[0].shape).toEqual([null, 1]);
    const before = tf.memory().numTensors;
    const images = generateImages(g, latentVectors(3, 16, 7), k ? Int32Array.from([0, 1, k - 1]) : undefined);
    expect(images.length).toBe(3 * shape[0] * shape[1] * shape[2]);
    expect(Math.min(...images)).toBeGreaterThanOrEqual(0); // generateImages maps tanh output to 0..1
    expect(Math.max(...images)).toBeLessThanOrEqual(1);
    expect(tf.memory().numTensors).toBe(before);
    g.dispose();
    d.dispose();
  });

  it('transposed convolutions double the size per stage; discriminator halves it', () => {
    const g = createGenerator(spec([32, 32, 3]));
    const ups = g.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').map((l) => (l.outputShape as number[]).slice(1, 3));
    expect(ups).toEqual([
      [8, 8],
      [16, 16],
      [32, 32],
    ]);
    expect(upsamplings(28)).toBe(2);
    expect(upsamplings(64)).toBe(4);
    expect(() => upsamplings(30)).toThrow(/multiple of 4/);
    g.dispose();
  });

  it('initialises weights from N(0, 0.02)', () => {
    const g = createGenerator({ ...spec([28, 28, 1]), width: 32 });
    const kernel = g.getLayer('up1').getWeights()[0].dataSync() as Float32Array;
    const mean = kernel.reduce((a, b) => a + b, 0) / kernel.length;
    const std = Math.sqrt(kernel.reduce((a, b) => a + (b - mean) ** 2, 0) / kernel.length);
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    g.dispose();
  });
});

describe('GanTask', () => {
  const set = (k: number): ClassificationSet => {
    const n = 16;
    const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37) % 256);
    return { images, labels: Int32Array.from({ length: n }, (_, i) => i % k), shape: [28, 28, 1], classNames: Array.from({ length: k }, (_, i) => String(i)) };
  };

  it.each([0, 4])('one step (classes %i) changes both nets and leaks no tensor', async (k) => {
    const s = spec([28, 28, 1], k);
    const g = createGenerator(s);
    const d = createDiscriminator(s);
    const loader = new DataLoader(set(k || 4), { batchSize: 8, shuffle: true, dropLast: true });
    const task = new GanTask(g, d, tf.train.adam(2e-4, 0.5), tf.train.adam(2e-4, 0.5), loader, { latentDim: 16, seed: 3 });
    const g0 = g.getWeights().map((w) => w.dataSync().slice());
    const d0 = d.getWeights().map((w) => w.dataSync().slice());
    const it = task.batches(0, 1)[Symbol.asyncIterator]();
    const warm = (await it.next()).value;
    await task.trainStep(warm, stepContext(0)); // creates the optimizer slots
    task.disposeBatch(warm);
    const before = tf.memory().numTensors;
    const batch = (await it.next()).value;
    const logs = await task.trainStep(batch, stepContext(1));
    task.disposeBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
    for (const key of ['d_loss', 'g_loss', 'd_real', 'd_fake']) expect(Number.isFinite(logs[key])).toBe(true);
    expect(logs.d_real).toBeGreaterThan(0);
    expect(logs.d_real).toBeLessThan(1);
    const changed = (w0: Float32Array[], model: tf.LayersModel) =>
      model.trainableWeights.every((tw) => {
        const i = model.weights.indexOf(tw);
        const now = model.getWeights()[i].dataSync();
        return now.some((v, j) => v !== w0[i][j]);
      });
    expect(changed(g0 as Float32Array[], g)).toBe(true);
    expect(changed(d0 as Float32Array[], d)).toBe(true);
    g.dispose();
    d.dispose();
  });

  it('latent vectors depend only on the seed and are standard normal', () => {
    const a = latentVectors(500, 20, 11);
    expect(latentVectors(500, 20, 11)).toEqual(a);
    expect(latentVectors(500, 20, 12)).not.toEqual(a);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
  });

  it('imageGrid places image i at row ⌊i/cols⌋, column i mod cols, with padding', () => {
    const images = new Float32Array(3 * 2 * 2).fill(0);
    images.fill(1, 8, 12); // third image white
    const { pixels, shape } = imageGrid(images, [2, 2, 1], 2, 1);
    expect(shape).toEqual([2 * 2 + 3, 2 * 2 + 3, 1]);
    const at = (y: number, x: number) => pixels[y * shape[1] + x];
    expect(at(4, 1)).toBe(255); // second row, first column
    expect(at(1, 1)).toBe(0);
    expect(at(0, 0)).toBe(48); // padding
  });
});
