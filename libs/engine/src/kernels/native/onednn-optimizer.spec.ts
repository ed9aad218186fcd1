import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { relativeError, values } from '../oracle';
import { initBackend } from '../../infer/backend';
import { available } from '../../testing/requirements';
import { ADDON_PATH, ENABLE_HINT, loadOneDnnAddon } from './addon';
import { applyScaledGradients } from '../fused-adam';
import { emaUpdateWasm } from '../ema-update';

/**
 * The oneDNN optimizer kernels, part 3: the global norm for clipping (CvSumSquares), Adam per variable (CvAdam)
 * and for all variables with the clip factor inside (CvAdamMany), and the weight average (CvEmaUpdate). Parts 1
 * and 2: onednn.spec.ts, onednn-fused.spec.ts.
 */

const built = available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT);

describe.skipIf(!built)('oneDNN optimizer kernels match the cpu backend and the paths they replace', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
  });

  it('CvSumSquares over tensors of many sizes equals the float64 sum of squares', async () => {
    await tf.setBackend('wasm');
    const sizes = [1, 7, 8192, 8193, 30000, 3 * 3 * 64 * 64];
    const arrays = sizes.map((n, i) => values(n, 120 + i));
    const tensors = arrays.map((a) => tf.tensor1d(a));
    const got = (await (tf.engine().runKernel('CvSumSquares', tensors as unknown as tf.NamedTensorMap, {}) as tf.Tensor).data())[0];
    let want = 0;
    for (const a of arrays) for (const v of a) want += v * v;
    expect(Math.abs(got - want) / want).toBeLessThanOrEqual(1e-7);
    tf.dispose(tensors);
  });

  it('the fused Adam update equals tfjs Adam on cpu over 3 steps (weights, moments, β powers)', async () => {
    const results: Float32Array[][] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const w = tf.variable(tf.tensor(values(5000, 91), [50, 100]), true, `adam_w_${backend}`);
      const b = tf.variable(tf.tensor(values(7, 92), [7]), true, `adam_b_${backend}`);
      const opt = tf.train.adam(0.01, 0.8, 0.95, 1e-6);
      for (let step = 0; step < 3; step++) {
        const g = { [w.name]: tf.tensor(values(5000, 93 + step), [50, 100]), [b.name]: tf.tensor(values(7, 96 + step), [7]) };
        opt.applyGradients(g as unknown as Record<string, tf.Variable>);
        tf.dispose(Object.values(g));
      }
      const slots = await opt.getWeights();
      results.push(await Promise.all([w, b, ...slots.map((s) => s.tensor)].map(async (t) => (await t.data()) as Float32Array)));
      tf.dispose([w, b]);
      opt.dispose();
    }
    expect(results[1].length).toBe(results[0].length);
    results[1].forEach((got, i) => expect(relativeError(got, results[0][i])).toBeLessThanOrEqual(1e-5));
  });

  it('CvAdamMany (all variables, the clip factor inside) equals tf.mul then CvAdam per variable, bit for bit', async () => {
    await tf.setBackend('wasm');
    const many = tf.getKernel('CvAdamMany', 'wasm')!;
    expect(many).toBeDefined();
    const train = async (scales: number[]) => {
      const w = tf.variable(tf.tensor(values(40000, 81), [200, 200]), true); // above the native block size: several blocks
      const b = tf.variable(tf.tensor(values(7, 82), [7]), true);
      const opt = tf.train.adam(0.01, 0.8, 0.95, 1e-6);
      for (const [step, scale] of scales.entries()) {
        const g = { [w.name]: tf.tensor(values(40000, 83 + step), [200, 200]), [b.name]: tf.tensor(values(7, 86 + step), [7]) };
        applyScaledGradients(opt, g, scale);
        tf.dispose(Object.values(g));
      }
      const out = await Promise.all([w, b, ...(await opt.getWeights()).map((s) => s.tensor)].map(async (t) => Array.from((await t.data()) as Float32Array)));
      tf.dispose([w, b]);
      opt.dispose();
      return out;
    };
    const scales = [1, 0.3711, 1, 0.05];
    const fused = await train(scales);
    tf.unregisterKernel('CvAdamMany', 'wasm');
    try {
      const perVariable = await train(scales);
      expect(fused).toEqual(perVariable);
      // and the factor matters: without it the weights differ
      expect(fused[0]).not.toEqual((await train([1, 1, 1, 1]))[0]);
    } finally {
      tf.registerKernel(many);
    }
  });

  it('the native CvEmaUpdate equals the JavaScript kernel bit for bit', async () => {
    await tf.setBackend('wasm');
    const pairs = [
      [values(40000, 71), values(40000, 72)],
      [values(5, 73), values(5, 74)],
    ];
    const run = () =>
      tf.tidy(() => {
        const inputs = Object.fromEntries(
          pairs.flatMap(([e, w], i) => [
            [`e${i}`, tf.tensor(e)],
            [`w${i}`, tf.tensor(w)],
          ]),
        );
        return (tf.engine().runKernel('CvEmaUpdate', inputs, { decay: 0.9993 }) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
      });
    const loaded = loadOneDnnAddon();
    expect('addon' in loaded && typeof loaded.addon.emaUpdate).toBe('function'); // the native entry is there to run
    const native = run();
    const config = tf.getKernel('CvEmaUpdate', 'wasm')!;
    tf.unregisterKernel('CvEmaUpdate', 'wasm');
    try {
      tf.registerKernel(emaUpdateWasm);
      expect(native).toEqual(run());
    } finally {
      tf.unregisterKernel('CvEmaUpdate', 'wasm');
      tf.registerKernel(config);
    }
  });

  it('the record-layout entries refuse a parameter list that does not match its count, naming the layout', () => {
    const loaded = loadOneDnnAddon();
    if (!('addon' in loaded)) throw new Error(loaded.error);
    const { adamMany, emaUpdate, sumSquares } = loaded.addon;
    const heap = new ArrayBuffer(64);
    // one record announced, none given; a negative count; one record and a missing trailing value
    expect(() => adamMany!(heap, new Int32Array([1, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/^adamMany\(heap, Int32Array\[count/);
    expect(() => emaUpdate!(heap, new Int32Array([-1, 0, 0]))).toThrow(/^emaUpdate\(heap, Int32Array\[count/);
    expect(() => sumSquares!(heap, new Int32Array([1, 0, 4]))).toThrow(/^sumSquares\(heap, Int32Array\[count/);
    // the well-formed empty lists run
    expect(adamMany!(heap, new Int32Array(8))).toBe(true);
    expect(emaUpdate!(heap, new Int32Array(3))).toBe(true);
  });
});
