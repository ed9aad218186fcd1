/**
 * Deployment: weight quantization at export (tfjs manifests), the ONNX writer checked by ONNX Runtime on
 * every supported layer type, and Predictors over ONNX Runtime.
 */
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../infer/backend';
import { exportModel, exportOnnx } from './export';
import { loadModel, readModelArtifacts, saveModel } from '../infer/model-io';
import { modelToOnnx, OnnxExportError, OnnxModel } from './onnx';
import { quantizeWeights, toFloat16Bits, uint8Grid } from './quantize';
import { magnitudePrune, polynomialSparsity, prunableKernels, sparsityOf } from './prune';
import { channelPrune } from './channel-prune';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-'));

/** A functional model with every layer type the ONNX writer supports, with non-trivial BN statistics. */
function everyLayerModel(): tf.LayersModel {
  const x = tf.input({ shape: [12, 12, 3] });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'swish' }).apply(x) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(c1) as tf.SymbolicTensor;
  const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu6' }).apply(bn) as tf.SymbolicTensor;
  const v = tf.layers.conv2d({ filters: 8, kernelSize: 2, padding: 'valid', dilationRate: 1 }).apply(dw) as tf.SymbolicTensor;
  const pad = tf.layers
    .zeroPadding2d({
      padding: [
        [1, 0],
        [0, 1],
      ],
    })
    .apply(v) as tf.SymbolicTensor;
  const mp = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(pad) as tf.SymbolicTensor;
  const ap = tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }).apply(mp) as tf.SymbolicTensor;
  const up = tf.layers.upSampling2d({ size: [2, 2] }).apply(ap) as tf.SymbolicTensor;
  const upb = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(ap) as tf.SymbolicTensor;
  const t1 = tf.layers.conv2dTranspose({ filters: 8, kernelSize: 3, strides: 2, padding: 'same' }).apply(ap) as tf.SymbolicTensor;
  const t2 = tf.layers.conv2dTranspose({ filters: 8, kernelSize: 2, strides: 2, padding: 'valid', activation: 'tanh' }).apply(ap) as tf.SymbolicTensor;
  const add = tf.layers.add().apply([up, t1]) as tf.SymbolicTensor;
  const mul = tf.layers.multiply().apply([upb, tf.layers.activation({ activation: 'sigmoid' }).apply(t2) as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const cat = tf.layers.concatenate().apply([add, mul]) as tf.SymbolicTensor;
  const lr = tf.layers.leakyReLU({ alpha: 0.2 }).apply(cat) as tf.SymbolicTensor;
  const r = tf.layers.reLU().apply(tf.layers.elu().apply(lr) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const sm = tf.layers.softmax({ axis: -1 }).apply(tf.layers.conv2d({ filters: 5, kernelSize: 1 }).apply(r) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const gap = tf.layers.globalAveragePooling2d({}).apply(r) as tf.SymbolicTensor;
  const gmp = tf.layers.globalMaxPooling2d({}).apply(r) as tf.SymbolicTensor;
  const flat = tf.layers.flatten().apply(tf.layers.dropout({ rate: 0.5 }).apply(v) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const d1 = tf.layers.dense({ units: 6, activation: 'elu' }).apply(tf.layers.concatenate().apply([gap, gmp, flat]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const bn1 = tf.layers.batchNormalization().apply(d1) as tf.SymbolicTensor;
  const reshaped = tf.layers.reshape({ targetShape: [3, 2] }).apply(bn1) as tf.SymbolicTensor;
  const d2 = tf.layers.dense({ units: 4, activation: 'softmax' }).apply(reshaped) as tf.SymbolicTensor;
  const model = tf.model({ inputs: x, outputs: [sm, d2] });
  // Non-trivial BN statistics: set moving mean / variance away from 0 / 1.
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(layer.getWeights().map((w, i) => tf.add(tf.mul(tf.randomUniform(w.shape, 0, 1, 'float32', 11 + i), 0.5), i === 3 ? 0.5 : 0.1)));
  }
  return model;
}

describe('weight quantization', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('float16 bits of hand-picked values (round to nearest even, subnormals, overflow)', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(0.1)).toBe(0x2e66);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(1e6)).toBe(0x7c00);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(1e-9)).toBe(0);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // a tie rounds to even
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('the uint8 grid holds 0 exactly', () => {
    const { scale, min } = uint8Grid(-0.3, 1.1);
    const q0 = Math.round(-min / scale);
    expect(q0 * scale + min).toBeCloseTo(0, 12);
    expect(uint8Grid(0.5, 2).min).toBe(0); // a range without 0 is widened to hold it
  });

  it('quantize → load → every weight within half a step (uint8) or float16 rounding; pruned zeros stay zero', async () => {
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3 }), tf.layers.flatten(), tf.layers.dense({ units: 4 })],
    });
    const kernel = model.layers[0].getWeights()[0];
    const masked = tf.mul(kernel, tf.cast(tf.greater(tf.abs(kernel), 0.1), 'float32'));
    model.layers[0].setWeights([masked, model.layers[0].getWeights()[1]]);
    const dir = tmpDir();
    await saveModel(model, path.join(dir, 'fp32'), { task: 'classify' });
    const original = model.getWeights().map((w) => w.dataSync() as Float32Array);
    for (const mode of ['uint8', 'float16'] as const) {
      await exportModel(path.join(dir, 'fp32'), path.join(dir, mode), { quantize: mode });
      const art = readModelArtifacts(path.join(dir, mode));
      expect(art.weightSpecs!.every((s) => s.quantization?.dtype === mode)).toBe(true);
      expect((art.weightData as ArrayBuffer).byteLength).toBe(original.reduce((s, w) => s + w.length, 0) * (mode === 'uint8' ? 1 : 2));
      const loaded = await loadModel(path.join(dir, mode));
      loaded.getWeights().forEach((w, i) => {
        const q = w.dataSync();
        const spec = art.weightSpecs![i].quantization!;
        original[i].forEach((v, j) => {
          const tol = mode === 'uint8' ? (spec.scale! / 2) * (1 + 1e-5) : Math.abs(v) * 2 ** -11 + 2 ** -25;
          expect(Math.abs(q[j] - v)).toBeLessThanOrEqual(tol);
          if (v === 0) expect(q[j] === 0).toBe(true);
        });
      });
      loaded.dispose();
    }
    expect(() =>
      quantizeWeights([{ name: 'w', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } }], new ArrayBuffer(1), 'uint8'),
    ).toThrow(/already quantized/);
  });
});

describe('ONNX export', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('every supported layer type: ONNX Runtime equals tfjs within 1e-4 (NHWC in and out)', () => {
    const model = everyLayerModel();
    const onnx = new OnnxModel(modelToOnnx(model, { task: 'test' }), {});
    const x = tf.randomUniform([3, 12, 12, 3], -1, 2, 'float32', 5);
    const a = model.predict(x) as tf.Tensor[];
    const b = onnx.predict(x) as tf.Tensor[];
    expect(b.map((t) => t.shape)).toEqual(a.map((t) => t.shape));
    a.forEach((t, i) => expect(tf.max(tf.abs(tf.sub(t, b[i]))).dataSync()[0]).toBeLessThan(1e-4));
    // Free spatial sizes stay free: a fully convolutional model runs at another size.
    const inp = tf.input({ shape: [null, null, 2] });
    const fcn = tf.model({
      inputs: inp,
      outputs: tf.layers.conv2d({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }).apply(inp) as tf.SymbolicTensor,
    });
    const fo = new OnnxModel(modelToOnnx(fcn), {});
    const y = tf.randomUniform([1, 9, 7, 2], 0, 1, 'float32', 1);
    expect(tf.max(tf.abs(tf.sub(fcn.predict(y) as tf.Tensor, fo.predict(y) as tf.Tensor))).dataSync()[0]).toBeLessThan(1e-5);
    onnx.dispose();
    fo.dispose();
  });

  it('a layer without a converter is named with its class; nothing is written', async () => {
    const model = tf.sequential({ layers: [tf.layers.simpleRNN({ inputShape: [8, 2], units: 2, name: 'my_rnn' })] });
    expect(() => modelToOnnx(model)).toThrow(OnnxExportError);
    expect(() => modelToOnnx(model)).toThrow(/layer 'my_rnn' \(SimpleRNN\) has no ONNX converter/);
    const dir = tmpDir();
    await saveModel(model, path.join(dir, 'm'), { task: 'test' });
    await expect(exportOnnx(path.join(dir, 'm'), path.join(dir, 'onnx'))).rejects.toThrow(/SimpleRNN/);
    expect(fs.existsSync(path.join(dir, 'onnx'))).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['m']);
  });

  it('exportOnnx writes model.onnx + metadata.json that ONNX Runtime loads with the metadata', async () => {
    const dir = tmpDir();
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, activation: 'relu' }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    await saveModel(model, path.join(dir, 'm'), { task: 'classify', classNames: ['a', 'b', 'c'], inputShape: [8, 8, 1] });
    const diff = await exportOnnx(path.join(dir, 'm'), path.join(dir, 'onnx'));
    expect(diff).toBeLessThan(1e-5);
    const onnx = OnnxModel.load(path.join(dir, 'onnx'), { threads: 1 });
    expect(onnx.getUserDefinedMetadata()).toMatchObject({ task: 'classify', classNames: ['a', 'b', 'c'] });
    expect(onnx.inputs[0].shape).toEqual([null, 8, 8, 1]);
    onnx.dispose();
  });
});

it('sequence layers: Conv1D (same, valid, dilated, strided), BatchNorm, 1-D pooling, Dot over time and global pooling match tfjs under ONNX Runtime', async () => {
  await initBackend({ log: false });
  const x = tf.input({ shape: [12, 3], name: 'x' });
  const m = tf.input({ shape: [12, 1], name: 'mask' });
  let h = tf.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c_same' }).apply(x) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization({ name: 'bn' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.conv1d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, name: 'c_dilated_same' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.multiply({ name: 'masked' }).apply([h, m]) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling1d({ poolSize: 2, padding: 'same', name: 'pool' }).apply(h) as tf.SymbolicTensor; // [6, 4]
  const s = tf.layers.conv1d({ filters: 5, kernelSize: 2, strides: 2, padding: 'valid', name: 'c_strided' }).apply(pooled) as tf.SymbolicTensor; // [3, 5]
  const d = tf.layers.conv1d({ filters: 2, kernelSize: 2, dilationRate: 2, padding: 'same', name: 'c_dilated' }).apply(s) as tf.SymbolicTensor;
  const avg = tf.layers.globalAveragePooling1d({ name: 'gap' }).apply(d) as tf.SymbolicTensor;
  const sum = tf.layers.flatten({ name: 'f' }).apply(tf.layers.dot({ axes: 1, name: 'dot' }).apply([m, x]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const model = tf.model({ inputs: [x, m], outputs: tf.layers.concatenate({ name: 'out' }).apply([avg, sum]) as tf.SymbolicTensor });
  const bn = model.getLayer('bn');
  bn.setWeights(bn.getWeights().map((w, i) => tf.add(w, tf.randomUniform(w.shape, 0.1, 0.5, 'float32', i))));
  const onnx = new OnnxModel(modelToOnnx(model), {}, { threads: 1 });
  const inputs = [tf.randomNormal([3, 12, 3], 0, 1, 'float32', 1), tf.cast(tf.greater(tf.randomUniform([3, 12, 1], 0, 1, 'float32', 2), 0.3), 'float32')];
  const a = model.predict(inputs) as tf.Tensor;
  const b = onnx.predict(inputs) as tf.Tensor;
  expect(b.shape).toEqual(a.shape);
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
  tf.dispose([a, b, ...inputs]);
  onnx.dispose();
});

describe('pruning', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('magnitude pruning reaches exactly the asked sparsity, globally, and the masks hold through updates', () => {
    const model = tf.sequential({
      layers: [tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 4, kernelSize: 3 }), tf.layers.flatten(), tf.layers.dense({ units: 3 })],
    });
    const masks = magnitudePrune(model, 0.7);
    const kernels = prunableKernels(model);
    const total = kernels.reduce((s, w) => s + w.read().size, 0);
    expect(sparsityOf(model)).toBeCloseTo(Math.floor(0.7 * total) / total, 10);
    // Every kept weight is at least as large as every pruned one (one global threshold).
    const kept = kernels.flatMap((w, i) =>
      Array.from(w.read().dataSync())
        .filter((_, j) => masks[i].dataSync()[j] === 1)
        .map(Math.abs),
    );
    const all = kernels.flatMap((w) => Array.from(w.read().dataSync()).map(Math.abs));
    expect(kept.length).toBe(total - Math.floor(0.7 * total));
    expect(Math.min(...kept)).toBeGreaterThan(0);
    expect(all.filter((a) => a === 0).length).toBe(Math.floor(0.7 * total));
    expect(polynomialSparsity(0.5, 0)).toBe(0);
    expect(polynomialSparsity(0.5, 0.5)).toBeCloseTo(0.5 * (1 - 0.125), 12);
    expect(polynomialSparsity(0.5, 2)).toBe(0.5);
    tf.dispose(masks);
  });

  it('channel pruning of dead channels leaves the outputs unchanged; Add keeps its channels; the model shrinks', async () => {
    const x = tf.input({ shape: [8, 8, 3] });
    const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'c1' }).apply(x) as tf.SymbolicTensor;
    const b1 = tf.layers.batchNormalization({ name: 'b1' }).apply(c1) as tf.SymbolicTensor;
    const r1 = tf.layers.reLU().apply(b1) as tf.SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }).apply(r1) as tf.SymbolicTensor;
    const c3 = tf.layers.conv2d({ filters: 6, kernelSize: 1, name: 'c3' }).apply(r1) as tf.SymbolicTensor;
    const res = tf.layers.add().apply([c2, c3]) as tf.SymbolicTensor; // c2, c3 must keep 6 channels
    const cat = tf.layers.concatenate().apply([res, r1]) as tf.SymbolicTensor;
    const pool = tf.layers.maxPooling2d({ poolSize: 2 }).apply(cat) as tf.SymbolicTensor;
    const c4 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'c4' }).apply(pool) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3 }).apply(tf.layers.flatten().apply(c4) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: out });
    // Channels 1, 4, 6 of b1 are dead (γ = β = 0 → 0 after ReLU): the smallest |γ|, so they go first.
    const [gamma, beta, mean, variance] = model.getLayer('b1').getWeights();
    const dead = tf.tensor1d([1, 0, 1, 1, 0, 1, 0, 1]);
    model.getLayer('b1').setWeights([tf.mul(tf.add(tf.abs(gamma), 0.5), dead), tf.mul(beta, dead), mean, variance]);
    // c4's filter 2 is dead too (zero kernel and bias: the smallest L1 norm).
    const [k4, bias4] = model.getLayer('c4').getWeights();
    const alive = tf.tensor1d([1, 1, 0, 1]);
    model.getLayer('c4').setWeights([tf.mul(k4, alive), tf.mul(tf.add(bias4, 0.1), alive)]);
    const r = await channelPrune(model, 3 / 8);
    const probe = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3);
    const diff = tf.max(tf.abs(tf.sub(model.predict(probe) as tf.Tensor, r.model.predict(probe) as tf.Tensor))).dataSync()[0];
    expect(diff).toBeLessThan(1e-5);
    expect(r.layers).toEqual([
      { layer: 'c1', from: 8, to: 5 },
      { layer: 'c4', from: 4, to: 3 },
    ]);
    expect(r.model.getLayer('c1').getWeights()[0].shape).toEqual([3, 3, 3, 5]);
    expect(r.skipped.map((s) => s.layer).sort()).toEqual(['c2', 'c3']);
    expect(r.model.getLayer('c4').getWeights()[0].shape).toEqual([3, 3, 6 + 5, 3]);
    expect(r.model.countParams()).toBeLessThan(model.countParams());
    // Pruning live channels does change the outputs (the check above can fail).
    const harder = await channelPrune(model, 5 / 8);
    expect(tf.max(tf.abs(tf.sub(model.predict(probe) as tf.Tensor, harder.model.predict(probe) as tf.Tensor))).dataSync()[0]).toBeGreaterThan(1e-3);
  });
  it('channel pruning through a transposed conv and a U-Net-style concatenation is exact on dead channels', async () => {
    const x = tf.input({ shape: [8, 8, 3] });
    const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', strides: 2, name: 'c1' }).apply(x) as tf.SymbolicTensor;
    const r1 = tf.layers
      .activation({ activation: 'swish' })
      .apply(tf.layers.batchNormalization({ name: 'b1' }).apply(c1) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const up = tf.layers.conv2dTranspose({ filters: 6, kernelSize: 2, strides: 2, name: 'up' }).apply(r1) as tf.SymbolicTensor;
    const b2 = tf.layers.batchNormalization({ name: 'b2' }).apply(up) as tf.SymbolicTensor;
    const skip = tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'skip' }).apply(x) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([b2, skip]) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: x,
      outputs: tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'head' }).apply(cat) as tf.SymbolicTensor,
    });
    for (const [name, dead] of [
      ['b1', [1, 0, 1, 1, 0, 1, 0, 1]],
      ['b2', [1, 0, 1, 1, 1, 0]],
    ] as const) {
      const [g, b, m, v] = model.getLayer(name).getWeights();
      const d = tf.tensor1d([...dead]);
      model.getLayer(name).setWeights([tf.mul(tf.add(tf.abs(g), 0.5), d), tf.mul(b, d), m, v]);
    }
    const [ks, bs] = model.getLayer('skip').getWeights();
    model.getLayer('skip').setWeights([tf.mul(ks, tf.tensor1d([1, 0, 1, 0])), tf.mul(bs, tf.tensor1d([1, 0, 1, 0]))]);
    const r = await channelPrune(model, 0.34);
    expect(r.layers).toEqual([
      { layer: 'c1', from: 8, to: 5 },
      { layer: 'up', from: 6, to: 4 },
      { layer: 'skip', from: 4, to: 3 },
    ]);
    expect(r.skipped).toEqual([{ layer: 'head', reason: "feeds the model output 'head'" }]);
    const p = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 1);
    expect(tf.max(tf.abs(tf.sub(model.predict(p) as tf.Tensor, r.model.predict(p) as tf.Tensor))).dataSync()[0]).toBeLessThan(1e-5);
  });
});
