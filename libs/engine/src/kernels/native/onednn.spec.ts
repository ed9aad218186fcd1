import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, relativeError, run, values, type Inputs } from '../oracle';
import { trainingPrecision, withTrainingPrecision } from '../precision';
import { initBackend, type BackendInfo } from '../../infer/backend';
import { available } from '../../testing/requirements';
import { ADDON_PATH, ENABLE_HINT, loadOneDnnAddon } from './addon';

/**
 * The oneDNN kernels against the `cpu` backend. The gradient kernels are also covered by
 * kernels.spec.ts, which runs on whichever kernel set is active (the test target runs it on both).
 * Here: forward convolutions (plain, fused, depthwise, dilated, even kernels), matmuls (transposes,
 * broadcast batches, fused bias + activation), pooling and its gradients. Part 2
 * (onednn-fused.spec.ts): memory-bound and fused kernels, leaks, determinism.
 */

const built = available('the oneDNN addon', existsSync(ADDON_PATH), ENABLE_HINT);
const addon = (() => {
  const loaded = loadOneDnnAddon();
  return 'addon' in loaded ? loaded.addon : null;
})();

interface ConvCase {
  s: number;
  pad: 'same' | 'valid';
  k: number;
  d: number;
  cin: number;
  cout: number;
  n: number;
  hw: number;
}

/** Strides 1/2/3 × same/valid × kernels 1..5 (even ones too) × dilation 1/2, channels 1..64, batches 1..8. */
function convGrid(): ConvCase[] {
  const channels = [1, 3, 8, 16, 32, 64];
  const batches = [1, 2, 5, 8];
  const cases: ConvCase[] = [];
  let i = 0;
  for (const s of [1, 2, 3])
    for (const pad of ['same', 'valid'] as const)
      for (const k of [1, 2, 3, 4, 5])
        for (const d of [1, 2]) {
          if (d > 1 && (s > 1 || k === 1)) continue; // tfjs allows dilation only with stride 1
          cases.push({ s, pad, k, d, cin: channels[i % 6], cout: channels[(i + 2) % 6], n: batches[i % 4], hw: 9 + (i % 5) });
          i++;
        }
  return cases;
}

function convInputs(c: ConvCase, seed: number, filterChannels = c.cout): Inputs {
  const [h, w] = [c.hw, c.hw + 2];
  return {
    x: { shape: [c.n, h, w, c.cin], data: values(c.n * h * w * c.cin, seed) },
    filter: { shape: [c.k, c.k, c.cin, filterChannels], data: values(c.k * c.k * c.cin * filterChannels, seed + 1) },
  };
}

describe.skipIf(!built)('oneDNN kernels match the cpu backend', () => {
  let info: BackendInfo;
  beforeAll(async () => {
    info = await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
  });

  it('are the active kernels, at the requested thread count', async () => {
    expect(info.kernels).toBe('onednn');
    expect(info.threads).toBeGreaterThanOrEqual(1);
    const before = addon!.cacheSize();
    await compare('Conv2D', convInputs({ s: 1, pad: 'same', k: 3, d: 1, cin: 2, cout: 3, n: 1, hw: 5 }, 90), {
      strides: [1, 1],
      pad: 'same',
      dataFormat: 'NHWC',
      dilations: [1, 1],
    });
    expect(addon!.cacheSize()).toBeGreaterThan(before); // the call went through oneDNN, not the wasm fallback
  });

  it.each(convGrid())('Conv2D s$s $pad k$k d$d ($cin→$cout, n=$n)', async (c) => {
    await compare('Conv2D', convInputs(c, 1), { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', dilations: [c.d, c.d] });
  });

  it.each([
    ['linear', true],
    ['relu', true],
    ['relu6', false],
    ['elu', true],
    ['sigmoid', true],
    ['leakyrelu', true],
  ] as const)('FusedConv2D activation %s (bias %s)', async (activation, withBias) => {
    const c: ConvCase = { s: 2, pad: 'same', k: 3, d: 1, cin: 5, cout: 7, n: 2, hw: 9 };
    const inputs = convInputs(c, 3);
    if (withBias) inputs.bias = { shape: [7], data: values(7, 5) };
    // relu6 needs values past 6 to be tested: scale the input.
    if (activation === 'relu6') inputs.x.data = inputs.x.data.map((v) => v * 8);
    await compare('FusedConv2D', inputs, {
      strides: [2, 2],
      pad: 'same',
      dataFormat: 'NHWC',
      dilations: [1, 1],
      activation,
      leakyreluAlpha: 0.3,
    });
  });

  it.each(convGrid().filter((_, i) => i % 2 === 0))('DepthwiseConv2dNative s$s $pad k$k d$d (c$cin, n=$n)', async (c) => {
    const mult = 1 + (c.k % 3);
    await compare('DepthwiseConv2dNative', convInputs(c, 7, mult), { strides: [c.s, c.s], pad: c.pad, dilations: [c.d, c.d] });
  });

  it('FusedDepthwiseConv2D with bias and relu', async () => {
    const c: ConvCase = { s: 1, pad: 'same', k: 3, d: 1, cin: 6, cout: 6, n: 2, hw: 8 };
    const inputs = { ...convInputs(c, 11, 2), bias: { shape: [12], data: values(12, 13) } };
    await compare('FusedDepthwiseConv2D', inputs, { strides: [1, 1], pad: 'same', dilations: [1, 1], activation: 'relu' });
  });

  it.each(convGrid().filter((c) => c.d === 1))('Conv2DBackpropFilter/Input s$s $pad k$k ($cin→$cout, n=$n)', async (c) => {
    const [h, w] = [c.hw, c.hw + 2];
    const fwd = await run('cpu', 'Conv2D', convInputs(c, 1), { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] });
    const dy = { shape: fwd.shape, data: values(fwd.data.length, 14) };
    const attrs = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC' };
    await compare('Conv2DBackpropFilter', { x: convInputs(c, 1).x, dy }, { ...attrs, filterShape: [c.k, c.k, c.cin, c.cout] });
    await compare('Conv2DBackpropInput', { dy, filter: convInputs(c, 1).filter }, { ...attrs, inputShape: [c.n, h, w, c.cin] });
  });

  it.each([
    [false, false, [3], [3]],
    [true, false, [3], [3]],
    [false, true, [3], [3]],
    [true, true, [2, 3], [2, 3]],
    [false, false, [4], [1]],
    [false, true, [1], [4]],
    [false, false, [], []],
  ])('BatchMatMul tA=%s tB=%s batches %j × %j', async (ta, tb, outerA, outerB) => {
    const [m, k, n] = [5, 19, 6];
    const sa = [...(outerA as number[]), ...(ta ? [k, m] : [m, k])];
    const sb = [...(outerB as number[]), ...(tb ? [n, k] : [k, n])];
    const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
    await compare(
      'BatchMatMul',
      { a: { shape: sa, data: values(size(sa), 21) }, b: { shape: sb, data: values(size(sb), 22) } },
      { transposeA: ta, transposeB: tb },
    );
  });

  it.each(['linear', 'relu', 'sigmoid', 'elu', 'leakyrelu'])('_FusedMatMul with bias and %s', async (activation) => {
    const [m, k, n] = [9, 33, 10];
    await compare(
      '_FusedMatMul',
      {
        a: { shape: [1, m, k], data: values(m * k, 23) },
        b: { shape: [1, k, n], data: values(k * n, 24) },
        bias: { shape: [n], data: values(n, 25) },
      },
      { transposeA: false, transposeB: false, activation, leakyreluAlpha: 0.1 },
    );
  });

  const poolCases = [
    { k: 2, s: 2, pad: 'valid', h: 8, w: 8, c: 3, n: 2 },
    { k: 2, s: 2, pad: 'same', h: 7, w: 9, c: 16, n: 3 },
    { k: 3, s: 2, pad: 'same', h: 7, w: 7, c: 5, n: 2 },
    { k: 3, s: 1, pad: 'same', h: 6, w: 5, c: 64, n: 1 },
    { k: 5, s: 1, pad: 'same', h: 10, w: 10, c: 8, n: 2 }, // SPPF-style
  ];
  it.each(poolCases)('MaxPool / AvgPool / AvgPoolGrad k$k s$s $pad $h×$w×$c', async (c) => {
    const attrs = { filterSize: [c.k, c.k], strides: [c.s, c.s], pad: c.pad };
    const x = { shape: [c.n, c.h, c.w, c.c], data: values(c.n * c.h * c.w * c.c, 31) };
    await compare('MaxPool', { x }, attrs);
    await compare('AvgPool', { x }, attrs);
    const out = await run('cpu', 'AvgPool', { x }, attrs);
    await compare('AvgPoolGrad', { dy: { shape: out.shape, data: values(out.data.length, 32) }, input: x }, attrs);
  });
});

/** f32 → bf16 → f32, round to nearest even: what the bf16 convolutions do to their operands. */
function toBf16(a: Float32Array): Float32Array {
  const u = new Uint32Array(Float32Array.from(a).buffer);
  for (let i = 0; i < u.length; i++) u[i] = ((u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16) << 16;
  return new Float32Array(u.buffer);
}

describe.skipIf(!built)('bf16 training convolutions (mixed precision)', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', kernels: 'onednn', log: false });
  });
  const cases = [
    { s: 1, pad: 'same', k: 3, cin: 32, cout: 64, n: 4, hw: 10 },
    { s: 2, pad: 'same', k: 3, cin: 16, cout: 32, n: 3, hw: 13 },
    { s: 1, pad: 'valid', k: 1, cin: 64, cout: 16, n: 2, hw: 7 },
    { s: 1, pad: 'same', k: 3, cin: 3, cout: 16, n: 2, hw: 9 },
  ] as const;
  const outSize = (n: number, k: number, s: number, pad: string) => (pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1);

  it.each(cases)('forward, input and filter gradient s$s $pad k$k ($cin→$cout): the f32 result of bf16-rounded operands', async (c) => {
    const [h, w] = [c.hw, c.hw + 1];
    const [oh, ow] = [outSize(h, c.k, c.s, c.pad), outSize(w, c.k, c.s, c.pad)];
    const x = { shape: [c.n, h, w, c.cin], data: values(c.n * h * w * c.cin, 61) };
    const filter = { shape: [c.k, c.k, c.cin, c.cout], data: values(c.k * c.k * c.cin * c.cout, 62) };
    const dy = { shape: [c.n, oh, ow, c.cout], data: values(c.n * oh * ow * c.cout, 63) };
    const geometry = { strides: [c.s, c.s], pad: c.pad, dataFormat: 'NHWC' };
    const calls: [string, Inputs, object][] = [
      ['Conv2D', { x, filter }, { ...geometry, dilations: [1, 1] }],
      ['Conv2DBackpropInput', { dy, filter }, { ...geometry, inputShape: x.shape }],
      ['Conv2DBackpropFilter', { x, dy }, { ...geometry, filterShape: filter.shape }],
    ];
    const rounded = (inputs: Inputs): Inputs => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { ...v, data: toBf16(v.data as Float32Array) }]));
    for (const [kernel, inputs, attrs] of calls) {
      const exact = await run('cpu', kernel, inputs, attrs);
      const halfRef = await run('cpu', kernel, rounded(inputs), attrs);
      const got = await withTrainingPrecision('bf16', () => run('wasm', kernel, inputs, attrs));
      expect(got.shape).toEqual(exact.shape);
      // Products of bf16 values are exact in f32: only the order of the f32 sums differs.
      expect(relativeError(got.data, halfRef.data)).toBeLessThan(1e-5);
      if (addon!.fastBf16!()) expect(relativeError(got.data, exact.data)).toBeGreaterThan(1e-5); // bf16 ran
    }
    expect(trainingPrecision()).toBe('f32'); // the step's precision ends with it
    const plain = await run('wasm', 'Conv2D', { x, filter }, { ...geometry, dilations: [1, 1] });
    expect(relativeError(plain.data, (await run('cpu', 'Conv2D', { x, filter }, { ...geometry, dilations: [1, 1] })).data)).toBeLessThan(1e-5);
  });
});

describe('kernel selection', () => {
  it('CV_KERNELS must name a kernel set', async () => {
    await expect(initBackend({ backend: 'wasm', kernels: 'mkl', log: false })).rejects.toThrow(
      /CV_KERNELS='mkl' is not a kernel set; use one of: onednn, wasm/,
    );
  });

  it('wasm kernels can be forced, and the banner says which kernels and threads run', async () => {
    const lines: string[] = [];
    const info = await initBackend({ backend: 'wasm', kernels: 'wasm', log: (l) => lines.push(l) });
    expect(info.kernels).toBe('wasm');
    expect(lines[0]).toMatch(/^\[engine\] backend=wasm kernels=wasm threads=1 /);
    if (built) {
      const again = await initBackend({ backend: 'wasm', kernels: 'onednn', threads: 1, log: (l) => lines.push(l) });
      expect(again.kernels).toBe('onednn');
      expect(lines[1]).toMatch(/^\[engine\] backend=wasm kernels=onednn threads=1 /);
    }
  });
});
