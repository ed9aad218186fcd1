/**
 * The native graph runner (`compileNativeGraph`, libs/engine/native/graph.cc) against the same inference graph run
 * layer by layer: every layer kind it takes, both precisions, a fully convolutional model at two input sizes, and
 * the layers it must refuse.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { fuseForInference } from './fuse';
import { compileNativeGraph, NativeGraphModel } from './native-graph';
import { loadPredictor, registerPredictor } from './predictor';
import { prepareInput } from './preprocess';
import { ADDON_PATH, ENABLE_HINT, loadOneDnnAddon, type OneDnnAddon } from '../kernels/native/addon';
import { available } from '../testing/requirements';
import { values } from '../kernels/oracle';

type ST = tf.SymbolicTensor;
const ap = (l: tf.layers.Layer, x: ST | ST[]) => l.apply(x) as ST;

/** Non-trivial statistics and affine parameters in every BatchNorm, seeded. */
function perturbBatchNorms(m: tf.LayersModel): void {
  m.layers.forEach((l, i) => {
    if (l.getClassName() !== 'BatchNormalization') return;
    l.setWeights(
      l.weights.map((w, j) =>
        tf.tensor(
          values(w.shape[0]!, 100 + 4 * i + j).map((v) => (j === 3 ? 0.5 + Math.abs(v) : v * 0.5)),
          w.shape as number[],
        ),
      ),
    );
  });
}

const convBnSilu = (x: ST, filters: number, kernelSize: number, strides = 1) =>
  ap(
    tf.layers.activation({ activation: 'swish' }),
    ap(tf.layers.batchNormalization(), ap(tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', useBias: false }), x)),
  );

/**
 * Every layer kind the runner takes: folded conv + SiLU (stride 1 and 2), Conv2D with ReLU and bias, Add, channel
 * Concatenate, UpSampling2D, MaxPooling2D ('same' and 'valid'), Conv2DTranspose ('same' and 'valid'), Dropout,
 * Reshape, a row Concatenate of reshaped heads, and two outputs. `size` null: a fully convolutional input.
 */
function everyLayer(size: number | null): tf.LayersModel {
  const x = tf.input({ shape: [size, size, 3] });
  const s1 = convBnSilu(x, 16, 3, 2); // /2
  const a = convBnSilu(s1, 8, 1);
  const b = ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }), a);
  const sum = ap(tf.layers.add(), [a, b]);
  const cat = ap(tf.layers.concatenate(), [sum, convBnSilu(s1, 8, 1)]); // 16 channels
  const down = ap(tf.layers.maxPooling2d({ poolSize: 2, padding: 'same' }), ap(tf.layers.dropout({ rate: 0.5 }), cat)); // /4
  const deep = convBnSilu(down, 24, 3, 1);
  const pooled = ap(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid' }), deep); // /8
  const up = ap(tf.layers.upSampling2d({ size: [2, 2] }), pooled); // /4
  const t1 = ap(tf.layers.conv2dTranspose({ filters: 8, kernelSize: 2, strides: 2, padding: 'same' }), ap(tf.layers.concatenate(), [up, deep])); // /2
  const t2 = ap(tf.layers.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 1, padding: 'valid', activation: 'sigmoid' }), t1); // /2 + 2
  const mask = ap(tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'valid' }), t2); // back to /2
  const outputs: ST[] = [mask];
  if (size !== null) {
    // A detection-style head: per-level convolutions, reshaped to rows and concatenated along them.
    const h1 = ap(tf.layers.reshape({ targetShape: [-1, 5] }), ap(tf.layers.conv2d({ filters: 5, kernelSize: 1 }), cat));
    const h2 = ap(tf.layers.reshape({ targetShape: [(size / 8) * (size / 8), 5] }), ap(tf.layers.conv2d({ filters: 5, kernelSize: 1 }), pooled));
    outputs.push(ap(tf.layers.concatenate({ axis: 1 }), [h1, h2]));
  }
  const m = tf.model({ inputs: x, outputs });
  perturbBatchNorms(m);
  return m;
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

const built = available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT);

describe.skipIf(!built)('the native graph runner equals the layer-by-layer inference graph', () => {
  let addon: OneDnnAddon;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
    addon = (loadOneDnnAddon() as { addon: OneDnnAddon }).addon;
  });

  it.each([
    ['f32', 2e-5],
    ['bf16', 0.05],
  ] as const)('every layer kind, %s', (precision, tolerance) => {
    const fused = fuseForInference(everyLayer(32), { precision });
    const graph = compileNativeGraph(addon, fused);
    expect('reason' in graph ? graph.reason : 'compiled').toBe('compiled');
    const x = tf.randomUniform([3, 32, 32, 3], 0, 1, 'float32', 5);
    const want = fused.predict(x) as tf.Tensor[];
    const got = (graph as NativeGraphModel).predict(x) as tf.Tensor[];
    expect(got.length).toBe(2);
    for (let i = 0; i < 2; i++) {
      const scale = tf.tidy(() => tf.max(tf.abs(want[i])).dataSync()[0]);
      expect(scale).toBeGreaterThan(0.1); // the outputs carry signal, so a zero-filled answer fails
      expect(maxAbsDiff(got[i], want[i])).toBeLessThan(tolerance * Math.max(1, scale));
    }
    // A second, smaller batch gets its own plan; the first batch size still answers the same afterwards.
    const x1 = tf.slice(x, [1], [1]);
    const one = (graph as NativeGraphModel).predict(x1) as tf.Tensor[];
    expect(maxAbsDiff(one[0], tf.slice(got[0], [1], [1]))).toBeLessThan(1e-6);
    const again = (graph as NativeGraphModel).predict(x) as tf.Tensor[];
    expect(maxAbsDiff(again[1], got[1])).toBe(0);
    tf.dispose([x, x1, ...want, ...got, ...one, ...again]);
    (graph as NativeGraphModel).dispose();
  });

  it('a fully convolutional model at two input sizes', () => {
    const fused = fuseForInference(everyLayer(null), { precision: 'f32' });
    const graph = compileNativeGraph(addon, fused) as NativeGraphModel;
    expect(graph).toBeInstanceOf(NativeGraphModel);
    // Six sizes: more than the four it keeps, so evicted sizes are compiled again when they come back.
    for (const [h, w] of [
      [32, 32],
      [48, 40],
      [16, 24],
      [40, 48],
      [24, 16],
      [32, 32],
    ]) {
      const x = tf.randomUniform([2, h, w, 3], 0, 1, 'float32', h);
      const want = fused.predict(x) as tf.Tensor;
      const got = graph.predict(x) as tf.Tensor;
      expect(got.shape).toEqual([2, h / 2, w / 2, 3]);
      expect(maxAbsDiff(got, want)).toBeLessThan(2e-5);
      tf.dispose([x, want, got]);
    }
    graph.dispose();
  });

  it('refuses a graph with a layer it does not run, naming it', () => {
    const x = tf.input({ shape: [8, 8, 3] });
    const y = ap(tf.layers.dense({ units: 2, name: 'the_dense' }), ap(tf.layers.flatten(), convBnSilu(x, 4, 3)));
    const m = tf.model({ inputs: x, outputs: y });
    perturbBatchNorms(m);
    const r = compileNativeGraph(addon, fuseForInference(m));
    expect(r).not.toBeInstanceOf(NativeGraphModel);
    expect((r as { reason: string }).reason).toMatch(/flatten|the_dense/i);
  });

  it('loadPredictor runs the graph by default and the layers with graph: false, with the same answers', async () => {
    registerPredictor('graph-test', (model) => ({ task: 'graph-test', model, metadata: { task: 'graph-test' }, dispose: () => model.dispose() }));
    const m = everyLayer(32);
    m.setUserDefinedMetadata({ task: 'graph-test' });
    const artifacts = await new Promise<tf.io.ModelArtifacts>((resolve) =>
      m.save(tf.io.withSaveHandler(async (a) => (resolve(a), { modelArtifactsInfo: {} as never }))),
    );
    const native = await loadPredictor(tf.io.fromMemory(artifacts), { precision: 'f32' });
    const layers = await loadPredictor(tf.io.fromMemory(artifacts), { precision: 'f32', graph: false });
    expect((native.model as { graph?: string }).graph).toBe('native');
    expect((layers.model as { graph?: string }).graph).toBeUndefined();
    const x = tf.randomUniform([2, 32, 32, 3], 0, 1, 'float32', 9);
    const [a, b] = [native.model.predict(x) as tf.Tensor[], layers.model.predict(x) as tf.Tensor[]];
    expect(maxAbsDiff(a[1], b[1])).toBeLessThan(2e-5);
    tf.dispose([x, ...a, ...b]);
    native.dispose();
    layers.dispose();
  });

  it('writes a batch of pixels as bytes / 255 exactly as tfjs divides them', () => {
    const img = (seed: number) => ({
      data: Uint8Array.from(values(4 * 5 * 3, seed), (v) => Math.floor((v + 1) * 127.9)),
      width: 5,
      height: 4,
      channels: 3 as const,
    });
    const images = [img(1), img(2)];
    const { x } = prepareInput(images, { shape: [4, 5, 3] });
    const want = tf.div(tf.tensor4d(Float32Array.from([...images[0].data, ...images[1].data]), [2, 4, 5, 3]), 255);
    expect(Array.from(x.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([x, want]);
  });

  afterAll(() => tf.disposeVariables());
});
