/**
 * The engine on WebGPU (Dawn's Node binding + tfjs-backend-webgpu) against the cpu backend: convolutions and
 * their gradients over a grid of shapes, depthwise and transposed convolution, and five training steps of a small
 * CNN (losses and weights). Where no GPU is, the tests run on SwiftShader, the software Vulkan driver Debian's
 * chromium ships (`VK_DRIVER_FILES` is pointed at it when unset): correctness here, speed where a GPU is.
 *
 * Without an adapter the suite is skipped loudly (the reason is in its title and on stderr); with
 * `CV_REQUIRE_WEBGPU=1` (the test script sets it where SwiftShader is installed) a missing adapter fails instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend, releaseBackend } from '../infer/backend';
import { SeededDropout } from '../infer/layers';
import { counters, resetCounters } from './webgpu/device';
import { filterGradPlan } from './webgpu/conv2d-filter-grad';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_DRIVER_FILES && fs.existsSync(SWIFTSHADER)) process.env.VK_DRIVER_FILES = SWIFTSHADER;
process.env.XDG_RUNTIME_DIR ??= os.tmpdir();

let why = '';
let adapter = '';
try {
  const info = await initBackend({ backend: 'webgpu', log: false });
  adapter = info.source;
} catch (e) {
  why = (e as Error).message;
  console.warn(`[webgpu.spec] WEBGPU TESTS SKIPPED: ${why}`);
}
const ok = why === '';

/** Runs `f` on a backend with inputs made from plain arrays there; returns its outputs as arrays. */
async function on(backend: 'cpu' | 'webgpu', f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const data = await Promise.all(list.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(list);
  return data;
}

/** max |a − b| relative to the largest |b| (1 when b is all zeros). */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(1, m);
}

/** Seeded values in [−1, 1). */
function values(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

it(ok ? `WebGPU has an adapter: ${adapter}` : `WebGPU: NO ADAPTER, kernel tests skipped (${why})`, () => {
  if (process.env.CV_REQUIRE_WEBGPU === '1') expect(why, 'CV_REQUIRE_WEBGPU=1 but no WebGPU adapter').toBe('');
});

describe.skipIf(!ok)('webgpu against cpu', () => {
  // [batch, h, w, cin, cout, kernel, stride, pad, dilation]
  const grid: [number, number, number, number, number, number, number, 'same' | 'valid', number][] = [
    [1, 5, 5, 1, 1, 3, 1, 'same', 1],
    [2, 7, 6, 3, 4, 3, 1, 'valid', 1],
    [3, 9, 9, 4, 8, 3, 2, 'same', 1],
    [2, 8, 8, 8, 4, 1, 1, 'same', 1],
    [1, 11, 7, 2, 3, 5, 2, 'valid', 1],
    [2, 10, 10, 3, 5, 3, 1, 'same', 2],
    [8, 6, 6, 16, 16, 3, 1, 'same', 1],
    // the engine's split-K filter gradient: several slices of M, partial K and Co tiles
    [4, 16, 16, 8, 12, 3, 1, 'same', 1],
    [3, 9, 9, 4, 40, 3, 2, 'same', 1],
    [2, 12, 12, 40, 3, 3, 1, 'valid', 1],
    [5, 13, 11, 3, 33, 5, 2, 'same', 1],
  ];

  it.each(grid)('conv2d (and both gradients where tfjs has them): batch %i, %i×%i×%i → %i, k%i s%i %s d%i', async (n, h, w, ci, co, k, s, pad, dil) => {
    const xv = values(n * h * w * ci, 1);
    const wv = values(k * k * ci * co, 2);
    const run = () => {
      const x = tf.tensor4d(xv, [n, h, w, ci]);
      const f = tf.tensor4d(wv, [k, k, ci, co]);
      const conv = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, s, pad, 'NHWC', dil);
      const y = conv(x, f);
      if (dil > 1) return [y]; // tfjs has no gradients of dilated convolutions on any backend
      const dy = tf.tensor4d(values(y.size, 3), y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a as tf.Tensor4D, b as tf.Tensor4D))([x, f], dy);
      return [y, dx, dw];
    };
    const cpu = await on('cpu', run);
    resetCounters();
    const gpu = await on('webgpu', run);
    cpu.forEach((c, i) => expect(relErr(gpu[i], c), ['y', 'dx', 'dw'][i]).toBeLessThan(1e-5));
    if (dil === 1) expect(counters.dispatches, "the engine's filter-gradient kernel ran").toBeGreaterThan(0);
  });

  it('splits a long reduction over several workgroups (split-K) and keeps short ones in one', () => {
    expect(filterGradPlan(9 * 8, 12, 4 * 16 * 16).slices).toBeGreaterThan(1);
    expect(filterGradPlan(25 * 3, 33, 5 * 7 * 6).slices).toBe(1);
    const { slices, chunk } = filterGradPlan(288, 32, 32 * 64 * 64);
    expect(chunk % 32).toBe(0);
    expect(slices * chunk).toBeGreaterThanOrEqual(32 * 64 * 64);
    expect((slices - 1) * chunk).toBeLessThan(32 * 64 * 64);
  });

  it('Adam as one kernel per variable equals tfjs Adam on the cpu backend (learning rate changed between steps)', async () => {
    const run = async (backend: 'cpu' | 'webgpu') => {
      await tf.setBackend(backend);
      const w = tf.variable(tf.tensor2d(values(3 * 70, 11), [3, 70]), true, `adam_w_${backend}`);
      const b = tf.variable(tf.tensor1d(values(5, 12)), true, `adam_b_${backend}`);
      const opt = tf.train.adam(0.05, 0.8, 0.95, 1e-6);
      for (let step = 0; step < 4; step++) {
        (opt as unknown as { learningRate: number }).learningRate = 0.05 / (step + 1);
        const grads = tf.tidy(() => ({ [w.name]: tf.tensor2d(values(3 * 70, 20 + step), [3, 70]), [b.name]: tf.tensor1d(values(5, 30 + step)) }));
        opt.applyGradients(grads as unknown as Record<string, tf.Variable>);
        tf.dispose(Object.values(grads));
      }
      const out = await Promise.all([w, b].map((t) => t.data() as Promise<Float32Array>));
      const slots = await Promise.all((await opt.getWeights()).map((s) => s.tensor.data() as Promise<Float32Array>));
      tf.dispose([w, b]);
      opt.dispose();
      return [...out, ...slots];
    };
    const cpu = await run('cpu');
    resetCounters();
    const gpu = await run('webgpu');
    expect(counters.dispatches, 'CvAdam ran').toBeGreaterThanOrEqual(4 * 2);
    cpu.forEach((c, i) => expect(relErr(gpu[i], c), `weight/slot ${i}`).toBeLessThan(1e-6));
  });

  it('a JavaScript number is uploaded once and shared; values stay right after the tensors are disposed', async () => {
    await tf.setBackend('webgpu');
    const x = tf.tensor1d([1, 2, 3]);
    const first = await tf.tidy(() => tf.add(tf.mul(x, 0.5), tf.mul(x, -3.25))).data();
    resetCounters();
    const again = await tf.tidy(() => tf.add(tf.mul(x, 0.5), tf.mul(x, -3.25))).data();
    expect(counters.scalarUploads).toBe(0);
    expect(Array.from(again)).toEqual(Array.from(first));
    expect(Array.from(first)).toEqual([-2.75, -5.5, -8.25]);
    const ints = await tf.tidy(() => tf.add(tf.tensor1d([1, 2], 'int32'), 7)).data();
    expect(Array.from(ints)).toEqual([8, 9]);
    x.dispose();
  });

  it.each([
    [[4, 5, 7, 24], 3],
    [[2, 3, 3, 130], -2],
    [[1500, 3], 0.5],
  ] as const)('training BatchNorm (fused on webgpu, tfjs-layers on cpu): %j, mean offset %d: y, dx, dγ, dβ, moving statistics', async (shape, offset) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const c = shape[shape.length - 1];
    const run = () => {
      const layer = tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
      const x = tf.add(tf.tensor(values(n, 40), [...shape]), offset);
      layer.build(x.shape);
      layer.setWeights([tf.tensor1d(values(c, 41)), tf.tensor1d(values(c, 42)), tf.tensor1d(values(c, 43)), tf.add(tf.tensor1d(values(c, 44)), 2)]);
      const [gamma, beta] = layer.trainableWeights.map((w) => w.read());
      const dy = tf.tensor(values(n, 45), [...shape]);
      const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        (layer as unknown as { gamma: { read(): tf.Tensor } }).gamma.read = () => g;
        (layer as unknown as { beta: { read(): tf.Tensor } }).beta.read = () => b;
        return layer.apply(xi, { training: true }) as tf.Tensor;
      };
      const { value: y, grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(a, g, b))([x, gamma, beta], dy);
      const moving = layer.getWeights().slice(2);
      return [y, ...grads, ...moving.map((w) => w.clone())]; // (a layer applied outside a model cannot be disposed)
    };
    const cpu = await on('cpu', run);
    resetCounters();
    const gpu = await on('webgpu', run);
    expect(counters.dispatches, 'the fused kernels ran').toBeGreaterThanOrEqual(7);
    cpu.forEach((ref, i) => expect(relErr(gpu[i], ref), ['y', 'dx', 'dγ', 'dβ', 'moving mean', 'moving variance'][i]).toBeLessThan(1e-4));
  });

  it('SeededDropout draws its mask on the device: the rate, the scaling, one mask per seed, nothing uploaded', async () => {
    await tf.setBackend('webgpu');
    const layer = new SeededDropout({ rate: 0.3 });
    const x = tf.add(tf.zeros([64, 40, 8]), 2);
    const run = async (seed: number) => {
      layer.setStepSeed(seed);
      resetCounters();
      const y = layer.apply(x, { training: true }) as tf.Tensor;
      const v = (await y.data()) as Float32Array;
      y.dispose();
      return { v, uploads: counters.uploads };
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(b.uploads, 'uploads after the first call (its numbers are uploaded once)').toBe(0);
    const dropped = a.v.filter((v) => v === 0).length / a.v.length;
    expect(Math.abs(dropped - 0.3)).toBeLessThan(0.02);
    expect(a.v.every((v) => v === 0 || Math.abs(v - 2 / 0.7) < 1e-5)).toBe(true);
    expect(Array.from(b.v)).toEqual(Array.from(a.v));
    const same = a.v.filter((v, i) => (v === 0) === (c.v[i] === 0)).length / a.v.length;
    expect(same).toBeLessThan(0.7); // independent masks agree on ~0.3² + 0.7² = 58 % of the units
    x.dispose();
  });

  it('swish (fused on webgpu) and its gradient', async () => {
    const run = () => {
      const x = tf.mul(tf.tensor2d(values(4 * 300, 50), [4, 300]), 12);
      const act = tf.layers.activation({ activation: 'swish' });
      const dy = tf.tensor2d(values(4 * 300, 51), [4, 300]);
      const { value, grad } = tf.valueAndGrad((a: tf.Tensor) => act.apply(a) as tf.Tensor)(x, dy);
      return [value, grad];
    };
    const cpu = await on('cpu', run);
    resetCounters();
    const gpu = await on('webgpu', run);
    expect(counters.dispatches, 'the fused kernels ran').toBe(2);
    cpu.forEach((ref, i) => expect(relErr(gpu[i], ref), ['y', 'dx'][i]).toBeLessThan(1e-5));
  });

  it.each([
    [2, 9, 9, 4, 3, 1, 'same'],
    [1, 8, 7, 6, 3, 2, 'valid'],
  ] as const)('depthwise conv and both gradients: batch %i, %i×%i×%i, k%i s%i %s', async (n, h, w, c, k, s, pad) => {
    const run = () => {
      const x = tf.tensor4d(values(n * h * w * c, 4), [n, h, w, c]);
      const f = tf.tensor4d(values(k * k * c, 5), [k, k, c, 1]);
      const dw = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.depthwiseConv2d(a, b, s, pad);
      const y = dw(x, f);
      const dy = tf.tensor4d(values(y.size, 6), y.shape);
      return [y, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => dw(a as tf.Tensor4D, b as tf.Tensor4D))([x, f], dy)];
    };
    const cpu = await on('cpu', run);
    const gpu = await on('webgpu', run);
    cpu.forEach((c2, i) => expect(relErr(gpu[i], c2), ['y', 'dx', 'dw'][i]).toBeLessThan(1e-5));
  });

  it('transposed convolution (the U-Net decoder) and its gradients', async () => {
    const run = () => {
      const x = tf.tensor4d(values(2 * 5 * 5 * 8, 7), [2, 5, 5, 8]);
      const f = tf.tensor4d(values(2 * 2 * 4 * 8, 8), [2, 2, 4, 8]);
      const up = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2dTranspose(a, b, [2, 10, 10, 4], 2, 'same');
      const y = up(x, f);
      const dy = tf.tensor4d(values(y.size, 9), y.shape);
      return [y, ...tf.grads((a: tf.Tensor, b: tf.Tensor) => up(a as tf.Tensor4D, b as tf.Tensor4D))([x, f], dy)];
    };
    const cpu = await on('cpu', run);
    const gpu = await on('webgpu', run);
    cpu.forEach((c, i) => expect(relErr(gpu[i], c), ['y', 'dx', 'dw'][i]).toBeLessThan(1e-5));
  });

  it('five Adam steps of a conv + batch-norm + ReLU CNN give the cpu losses and weights; no tensor leaks', async () => {
    const x = values(8 * 12 * 12 * 3, 10);
    const labels = Int32Array.from({ length: 8 }, (_, i) => i % 4);
    const train = async (backend: 'cpu' | 'webgpu') => {
      await tf.setBackend(backend);
      const model = tf.sequential({
        layers: [
          tf.layers.conv2d({
            inputShape: [12, 12, 3],
            filters: 8,
            kernelSize: 3,
            padding: 'same',
            useBias: false,
            kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
          }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.globalAveragePooling2d({}),
          tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
        ],
      });
      const opt = tf.train.adam(0.01);
      const xs = tf.tensor4d(x, [8, 12, 12, 3]);
      const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 4);
      const losses: number[] = [];
      let before = 0;
      let uploads = 0;
      for (let step = 0; step < 5; step++) {
        if (step === 2) before = tf.memory().numTensors;
        if (step === 3) resetCounters();
        const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor), true)!;
        losses.push((await loss.data())[0]);
        loss.dispose();
        if (step === 3) uploads = counters.uploads;
      }
      const leaked = tf.memory().numTensors - before;
      const weights = await Promise.all(model.getWeights().map((w) => w.data() as Promise<Float32Array>));
      tf.dispose([xs, ys]);
      model.dispose();
      opt.dispose();
      return { losses, weights, leaked, uploads };
    };
    const cpu = await train('cpu');
    const gpu = await train('webgpu');
    expect(gpu.leaked).toBe(0);
    expect(gpu.uploads, 'uploads in a training step after the first (scalars, ones)').toBe(0);
    expect(gpu.losses[4]).toBeLessThan(gpu.losses[0]);
    gpu.losses.forEach((l, i) => expect(Math.abs(l - cpu.losses[i]) / cpu.losses[i]).toBeLessThan(1e-4));
    gpu.weights.forEach((w, i) => expect(relErr(w, cpu.weights[i])).toBeLessThan(1e-3));
  });

  it('releaseBackend lets the process end and leaves the cpu backend usable', async () => {
    releaseBackend();
    expect(tf.findBackend('webgpu')).toBeFalsy();
    await tf.setBackend('cpu');
    expect(tf.add(1, 2).arraySync()).toBe(3);
  });
});
