import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, relativeError, run, values, type Inputs } from '../oracle';
import { initBackend } from '../../infer/backend';
import { available } from '../../testing/requirements';
import { ADDON_PATH, ENABLE_HINT } from './addon';

/**
 * The oneDNN kernels against the `cpu` backend, part 2: the memory-bound kernels (binary / unary
 * elementwise, reductions, Concat / SplitV, nearest-upsampling gradient), the fused training-mode
 * BatchNormalization and swish, leaks and determinism. Part 1 (onednn.spec.ts): convolutions, matmuls, pooling;
 * part 3 (onednn-optimizer.spec.ts): clipping's norm, Adam, the weight average.
 */

/** Runs a kernel whose inputs are a list (Concat) or whose outputs are (SplitV). */
async function runList(backend: string, kernel: string, inputs: { shape: number[]; data: Float32Array }[], attrs: object) {
  await tf.setBackend(backend);
  const tensors = inputs.map((v) => tf.tensor(v.data, v.shape));
  const args = kernel === 'Concat' ? (tensors as unknown as tf.NamedTensorMap) : { x: tensors[0] }; // Concat takes a list
  const raw = tf.engine().runKernel(kernel, args, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
  const outs = Array.isArray(raw) ? raw : [raw];
  const result: Float32Array[] & { shapes?: number[][] } = [];
  for (const o of outs) result.push((await o.data()) as Float32Array);
  result.shapes = outs.map((o) => o.shape);
  tf.dispose([...outs, ...tensors]);
  return result as Float32Array[] & { shapes: number[][] };
}

const built = available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT);

describe.skipIf(!built)('oneDNN memory-bound and fused kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
  });

  // Memory-bound kernels: shapes above NATIVE_MIN elements so the native path runs.
  const big = [4, 13, 11, 24];
  const bigSize = 4 * 13 * 11 * 24;
  it.each([
    ['same shape', big],
    ['scalar', []],
    ['bias [C]', [24]],
    ['bias [1,1,1,C]', [1, 1, 1, 24]],
    ['trailing [W,C]', [11, 24]],
    ['per-row [N,1,1,1]', [4, 1, 1, 1]],
    ['per-pixel [N,H,W,1]', [4, 13, 11, 1]],
  ] as const)('binary ops with b %s', async (_, bShape) => {
    const b = {
      shape: [...bShape],
      data: values(
        bShape.reduce((p, q) => p * q, 1),
        52,
      ).map((v) => v + 2),
    }; // no division by ~0
    for (const kernel of ['Add', 'Sub', 'Multiply', 'RealDiv', 'Maximum', 'Minimum', 'SquaredDifference']) {
      await compare(kernel, { a: { shape: big, data: values(bigSize, 51) }, b }, {});
      await compare(kernel, { a: b, b: { shape: big, data: values(bigSize, 53) } }, {}); // broadcast operand first
    }
  });

  it.each(['Relu', 'Sigmoid', 'Square', 'Neg', 'Exp', 'Sqrt', 'Rsqrt', 'Step'])('unary %s', async (kernel) => {
    const positive = kernel === 'Sqrt' || kernel === 'Rsqrt';
    const data = values(bigSize, 54).map((v) => (positive ? Math.abs(v) + 0.1 : v * 3));
    await compare(kernel, { x: { shape: big, data } }, kernel === 'Step' ? { alpha: 0.25 } : {});
  });

  it.each([
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[1, 2], false],
    [[3], true],
    [[2, 3], false],
    [[0], false],
    [[-1], false],
  ])('Sum and Mean over axes %j (keepDims %s)', async (axis, keepDims) => {
    const x = { shape: big, data: values(bigSize, 55) };
    await compare('Sum', { x }, { axis, keepDims });
    await compare('Mean', { x }, { axis, keepDims });
  });

  it.each([
    [true, true],
    [false, true],
    [true, false],
  ])('FusedBatchNorm (scale %s, offset %s)', async (withScale, withOffset) => {
    const c = 24;
    const inputs: Inputs = {
      x: { shape: big, data: values(bigSize, 56) },
      mean: { shape: [c], data: values(c, 57) },
      variance: { shape: [c], data: values(c, 58).map((v) => Math.abs(v) + 0.5) },
    };
    if (withScale) inputs.scale = { shape: [c], data: values(c, 59) };
    if (withOffset) inputs.offset = { shape: [c], data: values(c, 60) };
    await compare('FusedBatchNorm', inputs, { varianceEpsilon: 1e-3 });
  });

  it.each([
    [2, 2],
    [3, 2],
    [1, 4],
  ])('ResizeNearestNeighborGrad, upsampling ×(%i, %i)', async (fy, fx) => {
    const [n, h, w, c] = [1, 9, 8, 40]; // batch 1: tfjs's cpu kernel offsets dy by the images' batch stride
    const images = { shape: [n, h, w, c], data: values(n * h * w * c, 61) };
    const dy = { shape: [n, h * fy, w * fx, c], data: values(n * h * fy * w * fx * c, 62) };
    await compare('ResizeNearestNeighborGrad', { images, dy }, { alignCorners: false });
  });

  it.each([3, 1, 0])('Concat and SplitV along axis %i', async (axis) => {
    const shapes = [
      [4, 13, 11, 24],
      [4, 13, 11, 24],
    ].map((s, i) => s.map((d, j) => (j === axis ? d + 3 * i : d)));
    const parts = shapes.map((s, i) => ({
      shape: s,
      data: values(
        s.reduce((p, q) => p * q, 1),
        63 + i,
      ),
    }));
    const ref = await runList('cpu', 'Concat', parts, { axis });
    const got = await runList('wasm', 'Concat', parts, { axis });
    expect(got.shapes).toEqual(ref.shapes);
    expect(relativeError(got[0], ref[0])).toBe(0);
    const whole = [{ shape: got.shapes[0], data: got[0] }];
    const sizes = shapes.map((s) => s[axis]);
    const split = await runList('wasm', 'SplitV', whole, { numOrSizeSplits: sizes, axis });
    const cpuSplit = await runList('cpu', 'SplitV', whole, { numOrSizeSplits: sizes, axis });
    expect(split.shapes).toEqual(cpuSplit.shapes);
    for (let i = 0; i < sizes.length; i++) expect(relativeError(split[i], cpuSplit[i])).toBe(0);
  });

  it('ResizeNearestNeighborGrad with a batch of 3 equals the block sums of dy', async () => {
    const [n, h, w, c, f] = [3, 5, 4, 8, 2];
    const images = { shape: [n, h, w, c], data: values(n * h * w * c, 64) };
    const dyData = values(n * h * f * w * f * c, 65);
    const got = await run('wasm', 'ResizeNearestNeighborGrad', { images, dy: { shape: [n, h * f, w * f, c], data: dyData } }, { alignCorners: false });
    const want = new Float32Array(n * h * w * c);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < h * f; y++)
        for (let x = 0; x < w * f; x++)
          for (let q = 0; q < c; q++) {
            want[((b * h + Math.floor(y / f)) * w + Math.floor(x / f)) * c + q] += dyData[((b * h * f + y) * w * f + x) * c + q];
          }
    expect(relativeError(got.data, want)).toBeLessThanOrEqual(1e-6);
  });

  it.each([
    ['BatchNormalization', () => tf.layers.batchNormalization({ momentum: 0.9 })],
    ['swish', () => tf.layers.activation({ activation: 'swish' })],
  ] as const)('fused training-mode %s: output, input/weight gradients and moving statistics equal tfjs-layers on cpu', async (_, make) => {
    // The same layer weights on both backends; a loss that weights outputs unevenly so every gradient term matters.
    const shape = [3, 7, 6, 24];
    const xData = values(3 * 7 * 6 * 24, 71).map((v) => 2 * v + 0.5);
    const wData = values(3 * 7 * 6 * 24, 72);
    const results: { y: Float32Array; grads: Float32Array[]; moving: Float32Array[] }[] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const layer = make();
      const input = tf.input({ shape: shape.slice(1) });
      const model = tf.model({ inputs: input, outputs: layer.apply(input) as tf.SymbolicTensor });
      const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
      if (weights.length) weights[0].assign(tf.tensor1d(values(24, 73).map((v) => 1 + v / 2))); // gamma ≠ 1
      if (weights.length > 1) weights[1].assign(tf.tensor1d(values(24, 74)));
      const x = tf.variable(tf.tensor(xData, shape));
      const w = tf.tensor(wData, shape);
      let y: tf.Tensor | null = null;
      const { grads } = tf.variableGrads(() => {
        y = tf.keep(model.apply(x, { training: true }) as tf.Tensor);
        return tf.sum(tf.mul(y, w)) as tf.Scalar;
      }, [x, ...weights]);
      results.push({
        y: (await y!.data()) as Float32Array,
        grads: await Promise.all([x, ...weights].map(async (v) => (await grads[v.name].data()) as Float32Array)),
        moving: await Promise.all(
          model
            .getWeights()
            .slice(2)
            .map(async (t) => (await t.data()) as Float32Array),
        ),
      });
      tf.dispose([x, w, y!, ...Object.values(grads)]);
      model.dispose();
    }
    const [ref, got] = results;
    expect(relativeError(got.y, ref.y)).toBeLessThanOrEqual(1e-5);
    got.grads.forEach((g, i) => expect(relativeError(g, ref.grads[i])).toBeLessThanOrEqual(1e-5));
    got.moving.forEach((m, i) => expect(relativeError(m, ref.moving[i])).toBeLessThanOrEqual(1e-5));
  });

  it.each([
    ['relu', 'chain'],
    ['swish', 'chain'],
    ['swish', 'bn also an output'],
    ['relu', 'bn read twice'],
  ] as const)(
    'BatchNormalization → %s Activation (%s): one fused training pass where the graph allows; outputs, gradients and moving statistics equal tfjs-layers on cpu',
    async (act, topology) => {
      const shape = [3, 7, 6, 24];
      const xData = values(3 * 7 * 6 * 24, 75).map((v) => 2 * v + 0.5);
      const wData = values(3 * 7 * 6 * 24, 76);
      const results: { ys: Float32Array[]; grads: Float32Array[]; moving: Float32Array[]; kernels: string[] }[] = [];
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const input = tf.input({ shape: shape.slice(1) });
        const normed = tf.layers.batchNormalization({ momentum: 0.9 }).apply(input) as tf.SymbolicTensor;
        const activated = tf.layers.activation({ activation: act }).apply(normed) as tf.SymbolicTensor;
        const outputs =
          topology === 'bn also an output'
            ? [activated, normed]
            : topology === 'bn read twice'
              ? [tf.layers.add().apply([activated, normed]) as tf.SymbolicTensor]
              : [activated];
        const model = tf.model({ inputs: input, outputs });
        const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
        weights[0].assign(tf.tensor1d(values(24, 73).map((v) => 1 + v / 2)));
        weights[1].assign(tf.tensor1d(values(24, 74)));
        const x = tf.variable(tf.tensor(xData, shape));
        const w = tf.tensor(wData, shape);
        let ys: tf.Tensor[] = [];
        let kernels: string[] = [];
        const info = await tf.profile(() => {
          const { grads } = tf.variableGrads(() => {
            const out = model.apply(x, { training: true }) as tf.Tensor | tf.Tensor[];
            ys = (Array.isArray(out) ? out : [out]).map((t) => tf.keep(t));
            // weights every output unevenly, so every gradient term matters
            return ys.map((y, i) => tf.sum(tf.mul(y, i ? tf.neg(w) : w))).reduce((a, b) => tf.add(a, b)) as tf.Scalar;
          }, [x, ...weights]);
          return Object.values(grads);
        });
        kernels = info.kernelNames;
        const grads = info.result as unknown as tf.Tensor[];
        results.push({
          ys: await Promise.all(ys.map(async (y) => (await y.data()) as Float32Array)),
          grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)),
          moving: await Promise.all(
            model
              .getWeights()
              .slice(2)
              .map(async (t) => (await t.data()) as Float32Array),
          ),
          kernels,
        });
        tf.dispose([x, w, ...ys, ...grads]);
        model.dispose();
      }
      const [ref, got] = results;
      got.ys.forEach((y, i) => expect(relativeError(y, ref.ys[i])).toBeLessThanOrEqual(1e-5));
      expect(got.grads.length).toBe(3);
      got.grads.forEach((g, i) => expect(relativeError(g, ref.grads[i])).toBeLessThanOrEqual(1e-5));
      got.moving.forEach((m, i) => expect(relativeError(m, ref.moving[i])).toBeLessThanOrEqual(1e-5));
      const fused = topology === 'chain';
      expect(got.kernels.includes('CvBatchNormActTrain')).toBe(fused);
      expect(got.kernels.includes('CvBatchNormActTrainGrad')).toBe(fused);
      expect(got.kernels.includes('CvBatchNormTrain')).toBe(!fused);
    },
  );

  it('fused training-mode BatchNormalization outside a gradient tape updates the moving statistics and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const layer = tf.layers.batchNormalization({ momentum: 0.5 });
    const x = tf.tensor(
      values(2 * 5 * 5 * 8, 81).map((v) => v + 3),
      [2, 5, 5, 8],
    );
    for (let i = 0; i < 2; i++) tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor); // builds the weights, warms up
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    tf.tidy(() => layer.apply(x, { training: true }) as tf.Tensor);
    // tfjs-layers' own training-mode call outside a gradient tape leaves one tensor per call on every
    // backend (measured on cpu, where none of this code runs): the fused path adds nothing to that.
    expect(tf.memory().numDataBuffers).toBeLessThanOrEqual(buffers + 1);
    expect(tf.memory().numTensors).toBeLessThanOrEqual(tensors + 1);
    const movingMean = (await layer.getWeights()[2].data())[0];
    expect(movingMean).toBeGreaterThan(2.5); // 0 → m/2 → 3m/4 → 7m/8 with m ≈ 3
    x.dispose();
    layer.dispose();
  });

  it('a training step and a prediction leak no tensors and no data buffers', async () => {
    await tf.setBackend('wasm');
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same' }),
        tf.layers.averagePooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 4, activation: 'softmax' }),
      ],
    });
    const opt = tf.train.adam(1e-3);
    const x = tf.randomUniform([4, 12, 12, 3], 0, 1, 'float32', 1);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 4);
    const step = () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar);
        opt.applyGradients(grads as tf.NamedTensorMap as Record<string, tf.Variable>);
        return value;
      });
    step().dispose(); // optimizer slots are created on the first step
    const tensors = tf.memory().numTensors;
    const buffers = tf.memory().numDataBuffers;
    step().dispose();
    tf.tidy(() => model.predict(x) as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    tf.dispose([x, y]);
    opt.dispose();
    model.dispose();
  });

  it('a fixed thread count gives bit-identical results across runs', async () => {
    const inputs = { x: { shape: [8, 14, 16, 32], data: values(8 * 14 * 16 * 32, 41) }, filter: { shape: [3, 3, 32, 64], data: values(3 * 3 * 32 * 64, 42) } };
    const fwd = await run('cpu', 'Conv2D', inputs, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] });
    const dy = { shape: fwd.shape, data: values(fwd.data.length, 42) };
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] };
    const a = await run('wasm', 'Conv2DBackpropFilter', { x: inputs.x, dy }, attrs);
    const b = await run('wasm', 'Conv2DBackpropFilter', { x: inputs.x, dy }, attrs);
    expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
  });
});
