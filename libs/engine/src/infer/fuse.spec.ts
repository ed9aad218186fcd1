/**
 * The inference graph (`fuseForInference`): Conv2D → BatchNorm (→ activation) folded into one convolution gives
 * the model's outputs within float rounding, on pure wasm and with the native kernels (SiLU fused there), and
 * leaves shared or non-matching structure as it is.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend';
import { fuseForInference } from './fuse';
import { resolvePrecision } from '../kernels/precision';
import { ADDON_PATH, ENABLE_HINT, loadOneDnnAddon } from '../kernels/native/addon';
import { available } from '../testing/requirements';
import { relativeError, values } from '../kernels/oracle';

type ST = tf.SymbolicTensor;
const ap = (l: tf.layers.Layer, x: ST | ST[]) => l.apply(x) as ST;

/** conv→BN→swish, conv(bias)→BN→relu, a BN feeding two layers (not folded), a conv whose output is also a model output. */
function testModel(): tf.LayersModel {
  const x = tf.input({ shape: [12, 10, 3] });
  const a = ap(
    tf.layers.activation({ activation: 'swish' }),
    ap(tf.layers.batchNormalization({ epsilon: 1e-3 }), ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }), x)),
  );
  const b = ap(
    tf.layers.reLU(),
    ap(tf.layers.batchNormalization({ scale: false }), ap(tf.layers.conv2d({ filters: 8, kernelSize: 1, strides: 2, padding: 'same' }), a)),
  );
  const shared = ap(tf.layers.batchNormalization(), ap(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'valid' }), b));
  const c = ap(tf.layers.add(), [ap(tf.layers.activation({ activation: 'sigmoid' }), shared), shared]);
  const headConv = ap(tf.layers.conv2d({ filters: 4, kernelSize: 1 }), c);
  const head = ap(tf.layers.activation({ activation: 'swish' }), ap(tf.layers.batchNormalization(), headConv));
  const m = tf.model({ inputs: x, outputs: [head, headConv] });
  // Non-trivial statistics and affine parameters in every BatchNorm.
  m.layers.forEach((l, i) => {
    if (l.getClassName() !== 'BatchNormalization') return;
    l.setWeights(
      l.weights.map((w, j) =>
        tf.tensor(
          values(w.shape.reduce((p, q) => (p as number) * (q as number), 1) as number, 10 * i + j).map((v) => (w.name.includes('variance') ? 0.5 + v * v : v)),
          w.shape as number[],
        ),
      ),
    );
  });
  return m;
}

async function check(): Promise<void> {
  const model = testModel();
  const fused = fuseForInference(model);
  expect(fused).not.toBe(model);
  const kinds = fused.layers.map((l) => l.getClassName());
  expect(kinds.filter((k) => k === 'CvFoldedConv2D').length).toBe(3); // the shared BN's conv stays unfolded
  expect(kinds.filter((k) => k === 'BatchNormalization').length).toBe(1);
  const x = tf.tensor4d(values(2 * 12 * 10 * 3, 3), [2, 12, 10, 3]);
  const want = model.predict(x) as tf.Tensor[];
  const got = fused.predict(x) as tf.Tensor[];
  for (let i = 0; i < want.length; i++) {
    expect(got[i].shape).toEqual(want[i].shape);
    expect(relativeError((await got[i].data()) as Float32Array, (await want[i].data()) as Float32Array)).toBeLessThan(1e-5);
  }
  const before = tf.memory().numTensors;
  tf.dispose(fused.predict(x) as tf.Tensor[]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, ...want, ...got]);
  fused.dispose(); // the original's layers too
}

describe('fuseForInference', () => {
  it('pure wasm: outputs equal the model within rounding; folded convs, the shared BatchNorm left alone', async () => {
    await initBackend({ backend: 'wasm', kernels: 'wasm', log: false });
    await check();
  });

  const built = available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT);
  it.skipIf(!built)('with the native kernels (SiLU fused into the convolution): the same outputs', async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
    await check();
  });

  it('bf16 is asked of the native kernels only: pure wasm runs (and reports) f32', async () => {
    await initBackend({ backend: 'wasm', kernels: 'wasm', log: false });
    expect(resolvePrecision('bf16', 'wasm')).toBe('f32');
    expect(resolvePrecision('auto', 'wasm')).toBe('f32');
    const fused = fuseForInference(testModel(), { precision: 'bf16' });
    expect(fused.precision).toBe('f32');
    fused.dispose();
  });

  it.skipIf(!built)('native: constant filters are converted once per model and dropped with it; bf16 within its rounding', async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
    const addon = (loadOneDnnAddon() as { addon: import('../kernels/native/addon').OneDnnAddon }).addon;
    expect(resolvePrecision('bf16', 'wasm')).toBe('bf16');
    expect(resolvePrecision('f32', 'wasm')).toBe('f32');
    expect(resolvePrecision('auto', 'wasm')).toBe(addon.fastBf16!() ? 'bf16' : 'f32');
    // Two models of the same shapes, different weights, called alternately: a filter cache keyed on shapes
    // alone would answer one with the other's filters. Each fused model owns (and disposes) its original.
    const originals = [testModel(), testModel()];
    originals[1].layers.forEach((l) => {
      if (l.getClassName() === 'Conv2D') l.setWeights(l.getWeights().map((w) => tf.mul(w, -0.7)));
    });
    const copies = originals.map((m) => {
      const c = testModel();
      c.setWeights(m.getWeights());
      return c;
    });
    const xs = [1, 2].map((s) => tf.tensor4d(values(2 * 12 * 10 * 3, 40 + s), [2, 12, 10, 3]));
    const out = (m: tf.LayersModel, x: tf.Tensor) => tf.tidy(() => (m.predict(x) as tf.Tensor[])[0].dataSync() as Float32Array);
    const refs = originals.map((m) => xs.map((x) => out(m, x)));
    const entries = addon.cacheSize();
    const f = originals.map((m) => fuseForInference(m));
    const b = copies.map((m) => fuseForInference(m, { precision: 'bf16' }));
    expect(b[0].precision).toBe('bf16');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          expect(relativeError(out(f[i], xs[j]), refs[i][j])).toBeLessThan(1e-5);
          const e = relativeError(out(b[i], xs[j]), refs[i][j]);
          expect(e).toBeLessThan(2e-2); // 8-bit mantissa inputs and filters, f32 sums
          if (addon.fastBf16!()) expect(e).toBeGreaterThan(1e-6); // bf16 ran, not the f32 primitive
        }
      }
    }
    expect(addon.cacheSize()).toBeGreaterThan(entries);
    // Disposing a fused model drops its primitives and converted filters, not only its tensors.
    const before = addon.cacheSize();
    b[0].dispose();
    expect(addon.cacheSize()).toBeLessThan(before);
    [b[1], ...f].forEach((m) => m.dispose());
    tf.dispose(xs);
  });

  afterAll(async () => {
    await initBackend({ log: false });
  });
});
