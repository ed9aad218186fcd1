import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, relativeError, run, values } from './oracle';
import { initBackend } from '../infer/backend';

interface Case {
  stride: number;
  pad: 'same' | 'valid';
  k: number;
  cin: number;
  cout: number;
  n: number;
  hw: number;
}

/** The grid: strides 1/2 × same/valid × kernel 1/3/5, cycling channels 1..64 and batch 1..8 through it. */
function grid(): Case[] {
  const channels = [1, 3, 8, 16, 32, 64];
  const batches = [1, 2, 5, 8];
  const cases: Case[] = [];
  let i = 0;
  for (const stride of [1, 2])
    for (const pad of ['same', 'valid'] as const)
      for (const k of [1, 3, 5]) {
        const cin = channels[i % channels.length];
        const cout = channels[(i + 3) % channels.length];
        cases.push({ stride, pad, k, cin, cout, n: batches[i % batches.length], hw: 7 + (i % 5) });
        i++;
      }
  return cases;
}

function outSize(inSize: number, k: number, stride: number, pad: string, dilation = 1) {
  const ke = (k - 1) * dilation + 1;
  return pad === 'same' ? Math.ceil(inSize / stride) : Math.ceil((inSize - ke + 1) / stride);
}

describe('wasm training kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
  });

  it.each(grid())('Conv2DBackpropFilter $stride $pad $k ($cin→$cout, n=$n)', async (c) => {
    const [h, w] = [c.hw, c.hw + 1];
    const [oh, ow] = [outSize(h, c.k, c.stride, c.pad), outSize(w, c.k, c.stride, c.pad)];
    const inputs = {
      x: { shape: [c.n, h, w, c.cin], data: values(c.n * h * w * c.cin, 1) },
      dy: { shape: [c.n, oh, ow, c.cout], data: values(c.n * oh * ow * c.cout, 2) },
    };
    await compare('Conv2DBackpropFilter', inputs, {
      strides: [c.stride, c.stride],
      pad: c.pad,
      dataFormat: 'NHWC',
      filterShape: [c.k, c.k, c.cin, c.cout],
    });
  });

  it.each(grid())('Conv2DBackpropInput $stride $pad $k ($cin→$cout, n=$n)', async (c) => {
    const [h, w] = [c.hw, c.hw + 1];
    const [oh, ow] = [outSize(h, c.k, c.stride, c.pad), outSize(w, c.k, c.stride, c.pad)];
    const inputs = {
      dy: { shape: [c.n, oh, ow, c.cout], data: values(c.n * oh * ow * c.cout, 3) },
      filter: { shape: [c.k, c.k, c.cin, c.cout], data: values(c.k * c.k * c.cin * c.cout, 4) },
    };
    await compare('Conv2DBackpropInput', inputs, {
      strides: [c.stride, c.stride],
      pad: c.pad,
      dataFormat: 'NHWC',
      inputShape: [c.n, h, w, c.cin],
    });
  });

  // Even kernels, stride 3 and unequal strides (the transposed convolutions of DCGAN / U-Net decoders).
  it.each([
    { stride: [2, 2], pad: 'same', k: 4, cin: 1, cout: 32, n: 3, h: 14, w: 14 },
    { stride: [2, 2], pad: 'same', k: 4, cin: 16, cout: 8, n: 2, h: 9, w: 10 },
    { stride: [2, 2], pad: 'valid', k: 2, cin: 8, cout: 4, n: 2, h: 8, w: 9 },
    { stride: [2, 2], pad: 'valid', k: 4, cin: 3, cout: 5, n: 2, h: 11, w: 12 },
    { stride: [3, 3], pad: 'same', k: 3, cin: 4, cout: 6, n: 2, h: 10, w: 11 },
    { stride: [3, 3], pad: 'valid', k: 5, cin: 2, cout: 3, n: 1, h: 13, w: 12 },
    { stride: [1, 2], pad: 'same', k: 3, cin: 4, cout: 4, n: 2, h: 7, w: 8 },
  ] as const)('Conv2DBackpropInput strides $stride $pad k$k ($cin→$cout)', async (c) => {
    const [oh, ow] = [outSize(c.h, c.k, c.stride[0], c.pad), outSize(c.w, c.k, c.stride[1], c.pad)];
    await compare(
      'Conv2DBackpropInput',
      {
        dy: { shape: [c.n, oh, ow, c.cout], data: values(c.n * oh * ow * c.cout, 16) },
        filter: { shape: [c.k, c.k, c.cin, c.cout], data: values(c.k * c.k * c.cin * c.cout, 17) },
      },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: [c.n, c.h, c.w, c.cin] },
    );
  });

  // The same geometries for the filter gradient: every DCGAN discriminator layer is 4×4 / 2.
  it.each([
    { stride: [2, 2], pad: 'same', k: 4, cin: 1, cout: 32, n: 3, h: 14, w: 14 },
    { stride: [2, 2], pad: 'same', k: 4, cin: 16, cout: 8, n: 2, h: 9, w: 10 },
    { stride: [2, 2], pad: 'valid', k: 4, cin: 3, cout: 5, n: 2, h: 11, w: 12 },
    { stride: [2, 2], pad: 'valid', k: 2, cin: 8, cout: 4, n: 2, h: 8, w: 9 },
    { stride: [3, 3], pad: 'same', k: 3, cin: 4, cout: 6, n: 2, h: 10, w: 11 },
    { stride: [3, 3], pad: 'valid', k: 5, cin: 2, cout: 3, n: 1, h: 13, w: 12 },
    { stride: [1, 2], pad: 'same', k: 3, cin: 4, cout: 4, n: 2, h: 7, w: 8 },
    { stride: [2, 1], pad: 'valid', k: 4, cin: 3, cout: 2, n: 2, h: 9, w: 7 },
  ] as const)('Conv2DBackpropFilter strides $stride $pad k$k ($cin→$cout)', async (c) => {
    const [oh, ow] = [outSize(c.h, c.k, c.stride[0], c.pad), outSize(c.w, c.k, c.stride[1], c.pad)];
    await compare(
      'Conv2DBackpropFilter',
      {
        x: { shape: [c.n, c.h, c.w, c.cin], data: values(c.n * c.h * c.w * c.cin, 18) },
        dy: { shape: [c.n, oh, ow, c.cout], data: values(c.n * oh * ow * c.cout, 19) },
      },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: [c.k, c.k, c.cin, c.cout] },
    );
  });

  const depthwiseCases = grid().flatMap((c, i) => [{ ...c, mult: 1 + (i % 3), dilation: 1 }]);

  it.each(depthwiseCases)('DepthwiseConv2dNativeBackpropFilter s$stride $pad k$k c$cin ×$mult d$dilation', async (c) => {
    const [h, w] = [c.hw, c.hw + 1];
    const [oh, ow] = [outSize(h, c.k, c.stride, c.pad, c.dilation), outSize(w, c.k, c.stride, c.pad, c.dilation)];
    const inputs = {
      x: { shape: [c.n, h, w, c.cin], data: values(c.n * h * w * c.cin, 5) },
      dy: { shape: [c.n, oh, ow, c.cin * c.mult], data: values(c.n * oh * ow * c.cin * c.mult, 6) },
    };
    await compare('DepthwiseConv2dNativeBackpropFilter', inputs, {
      strides: [c.stride, c.stride],
      pad: c.pad,
      dilations: [c.dilation, c.dilation],
      filterShape: [c.k, c.k, c.cin, c.mult],
    });
  });

  it.each(depthwiseCases)('DepthwiseConv2dNativeBackpropInput s$stride $pad k$k c$cin ×$mult d$dilation', async (c) => {
    const [h, w] = [c.hw, c.hw + 1];
    const [oh, ow] = [outSize(h, c.k, c.stride, c.pad, c.dilation), outSize(w, c.k, c.stride, c.pad, c.dilation)];
    const inputs = {
      dy: { shape: [c.n, oh, ow, c.cin * c.mult], data: values(c.n * oh * ow * c.cin * c.mult, 7) },
      filter: { shape: [c.k, c.k, c.cin, c.mult], data: values(c.k * c.k * c.cin * c.mult, 8) },
    };
    await compare('DepthwiseConv2dNativeBackpropInput', inputs, {
      strides: [c.stride, c.stride],
      pad: c.pad,
      dilations: [c.dilation, c.dilation],
      inputShape: [c.n, h, w, c.cin],
    });
  });

  // The cpu kernels ignore dilation (tfjs's autograd refuses dilated depthwise gradients), so the
  // reference for dilation 2 is the cpu result with the equivalent zero-expanded (2k-1)×(2k-1) filter.
  it.each(['same', 'valid'] as const)('depthwise gradients with dilation 2 (%s) match the zero-expanded filter on cpu', async (pad) => {
    const [n, h, w, c, mult, k] = [2, 9, 10, 5, 2, 3];
    const ke = 2 * k - 1;
    const [oh, ow] = [outSize(h, ke, 1, pad), outSize(w, ke, 1, pad)];
    const x = { shape: [n, h, w, c], data: values(n * h * w * c, 16) };
    const dy = { shape: [n, oh, ow, c * mult], data: values(n * oh * ow * c * mult, 17) };
    const filter = values(k * k * c * mult, 18);
    const expanded = new Float32Array(ke * ke * c * mult);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++)
        for (let j = 0; j < c * mult; j++) {
          expanded[(2 * a * ke + 2 * b) * c * mult + j] = filter[(a * k + b) * c * mult + j];
        }
    const base = { strides: [1, 1], pad };
    const refFilter = await run('cpu', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...base, dilations: [1, 1], filterShape: [ke, ke, c, mult] });
    const gotFilter = await run('wasm', 'DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...base, dilations: [2, 2], filterShape: [k, k, c, mult] });
    const picked = new Float32Array(k * k * c * mult);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++)
        for (let j = 0; j < c * mult; j++) {
          picked[(a * k + b) * c * mult + j] = refFilter.data[(2 * a * ke + 2 * b) * c * mult + j];
        }
    expect(relativeError(gotFilter.data, picked)).toBeLessThanOrEqual(1e-5);
    const refInput = await run(
      'cpu',
      'DepthwiseConv2dNativeBackpropInput',
      { dy, filter: { shape: [ke, ke, c, mult], data: expanded } },
      { ...base, dilations: [1, 1], inputShape: [n, h, w, c] },
    );
    const gotInput = await run(
      'wasm',
      'DepthwiseConv2dNativeBackpropInput',
      { dy, filter: { shape: [k, k, c, mult], data: filter } },
      { ...base, dilations: [2, 2], inputShape: [n, h, w, c] },
    );
    expect(relativeError(gotInput.data, refInput.data)).toBeLessThanOrEqual(1e-5);
  });

  const poolCases = [
    { k: 2, s: 2, pad: 'valid', h: 8, w: 8, c: 3, n: 2 },
    { k: 2, s: 2, pad: 'valid', h: 7, w: 9, c: 16, n: 3 },
    { k: 2, s: 2, pad: 'same', h: 6, w: 10, c: 8, n: 1 },
    { k: 3, s: 3, pad: 'valid', h: 9, w: 11, c: 4, n: 2 },
    { k: 3, s: 2, pad: 'same', h: 7, w: 7, c: 5, n: 2 }, // overlapping windows
    { k: 3, s: 1, pad: 'valid', h: 6, w: 5, c: 2, n: 2 },
    { k: 2, s: 2, pad: 'same', h: 7, w: 5, c: 3, n: 2 }, // padded: typed-array path
    { k: 3, s: 2, pad: 'same', h: 12, w: 13, c: 32, n: 2 }, // overlapping, many channels
  ];
  it.each(poolCases)('MaxPoolGrad k$k s$s $pad $h×$w (ties routed to the first max)', async (c) => {
    // Quantised values make many ties inside windows, as ReLU zeros do.
    const data = values(c.n * c.h * c.w * c.c, 19).map((v) => Math.max(0, Math.round(v * 2)));
    const attrs = { filterSize: [c.k, c.k], strides: [c.s, c.s], pad: c.pad };
    const poolOut = await run('cpu', 'MaxPool', { x: { shape: [c.n, c.h, c.w, c.c], data } }, attrs);
    const inputs = {
      input: { shape: [c.n, c.h, c.w, c.c], data },
      output: { shape: poolOut.shape, data: poolOut.data },
      dy: { shape: poolOut.shape, data: values(poolOut.data.length, 20) },
    };
    await compare('MaxPoolGrad', inputs, attrs);
  });

  it('MaxPoolGrad with -∞ inputs (overlapping windows): a window of only -∞ routes nothing, as on cpu', async () => {
    const [n, h, w, c] = [1, 5, 5, 3];
    const data = values(n * h * w * c, 21).map((v, i) => (i % c === 1 || i % 7 === 0 ? -Infinity : v));
    const attrs = { filterSize: [3, 3], strides: [2, 2], pad: 'same' };
    const poolOut = await run('cpu', 'MaxPool', { x: { shape: [n, h, w, c], data } }, attrs);
    const inputs = {
      input: { shape: [n, h, w, c], data },
      output: { shape: poolOut.shape, data: poolOut.data },
      dy: { shape: poolOut.shape, data: values(poolOut.data.length, 22) },
    };
    const ref = await run('cpu', 'MaxPoolGrad', inputs, attrs);
    expect(
      Array.from(ref.data)
        .filter((_, i) => i % c === 1)
        .every((v) => v === 0),
    ).toBe(true); // the all -∞ channel
    await compare('MaxPoolGrad', inputs, attrs);
  });

  it.each([
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ])('BatchMatMul transposeA=%s transposeB=%s (rank 3)', async (ta, tb) => {
    const [b, m, k, n] = [3, 5, 7, 4];
    const a = { shape: ta ? [b, k, m] : [b, m, k], data: values(b * m * k, 21) };
    const bb = { shape: tb ? [b, n, k] : [b, k, n], data: values(b * k * n, 22) };
    await compare('BatchMatMul', { a, b: bb }, { transposeA: ta, transposeB: tb });
  });

  it.each([
    [[64, 5, 6, 8], [0, 1, 2], false],
    [[37, 3, 5, 3], [0, 1, 2], false], // odd row counts at several levels
    [[4, 5, 6, 8], [0, 1, 2], true],
    [[7, 9], [0], false],
    [[3, 4, 5], [-3], false],
    [[3, 4, 5], [1, 2], false], // not leading: wasm's own kernel
  ])('Sum of %j over %j (keepDims %s)', async (shape, axis, keepDims) => {
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    await compare('Sum', { x: { shape: shape as number[], data: values(n, 23) } }, { axis, keepDims });
  });

  it.each([
    [
      [1, 1, 1, 5],
      [4, 3, 2, 1],
    ],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [
      [2, 3],
      [2, 2],
    ], // not a broadcast: wasm's own kernel
  ])('Tile of %j by %j', async (shape, reps) => {
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    await compare('Tile', { x: { shape: shape as number[], data: values(n, 25) } }, { reps });
  });

  it.each([
    [
      [5, 6, 7, 8],
      [1, 2, 0, 3],
      [3, 2, 7, 4],
    ],
    [
      [4, 9],
      [1, 0],
      [2, 9],
    ], // contiguous
    [
      [3, 4, 5, 6, 7],
      [1, 0, 2, 1, 3],
      [2, 4, 1, 3, 2],
    ], // rank 5
    [[10], [3], [5]],
    [
      [4, 30, 30, 1],
      [0, 1, 1, 0],
      [4, 28, 28, 1],
    ], // trailing axes taken whole: rows of 28
    [
      [3, 5, 6, 4],
      [1, 2, 0, 0],
      [2, 3, 6, 4],
    ], // rows span two axes (contiguous per outer index)
    [
      [6, 7],
      [2, 0],
      [3, 7],
    ],
  ])('Slice of %j from %j size %j', async (shape, begin, size) => {
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    await compare('Slice', { x: { shape: shape as number[], data: values(n, 24) } }, { begin, size });
  });

  const ints = (n: number, seed: number) => Int32Array.from(values(n, seed), (v) => Math.round(v * 1000));

  it.each([
    [
      [5, 6, 7, 8],
      [1, 2, 0, 3],
      [3, 2, 7, 4],
    ],
    [
      [4, 9],
      [1, 0],
      [2, 9],
    ],
    [
      [4, 30, 30, 1],
      [0, 1, 1, 0],
      [4, 28, 28, 1],
    ],
  ])('Slice of int32 %j from %j size %j (exact)', async (shape, begin, size) => {
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    await compare('Slice', { x: { shape: shape as number[], data: ints(n, 26) } }, { begin, size });
  });

  it.each([
    [
      [1, 1, 1, 5],
      [4, 3, 2, 1],
    ],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [
      [2, 3],
      [2, 2],
    ],
  ])('Tile of int32 %j by %j (exact)', async (shape, reps) => {
    const n = (shape as number[]).reduce((a, b) => a * b, 1);
    await compare('Tile', { x: { shape: shape as number[], data: ints(n, 27) } }, { reps });
  });

  it('trains a conv + depthwise net end to end through tf.grads without leaking tensors', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 9), [2, 8, 8, 3]);
    const w1 = tf.variable(tf.tensor4d(values(3 * 3 * 3 * 4, 10), [3, 3, 3, 4]));
    const w2 = tf.variable(tf.tensor4d(values(3 * 3 * 4 * 2, 11), [3, 3, 4, 2]));
    const before = tf.memory().numTensors;
    const beforeBuffers = tf.memory().numDataBuffers;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.depthwiseConv2d(tf.conv2d(x, w1, 2, 'same'), w2, 1, 'same'))) as tf.Scalar);
    expect(Number.isFinite((await value.data())[0])).toBe(true);
    expect(grads[w1.name].shape).toEqual([3, 3, 3, 4]);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numDataBuffers).toBe(beforeBuffers);
    tf.dispose([x, w1, w2]);
  });

  it.each([1, 2])('NCHW Conv2DBackpropFilter/Input with stride %i', async (s) => {
    const [n, c, h, w, co, k] = [2, 3, 6, 7, 4, 3];
    const [oh, ow] = [outSize(h, k, s, 'same'), outSize(w, k, s, 'same')];
    const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NCHW' };
    await compare(
      'Conv2DBackpropFilter',
      { x: { shape: [n, c, h, w], data: values(n * c * h * w, 12) }, dy: { shape: [n, co, oh, ow], data: values(n * co * oh * ow, 13) } },
      { ...attrs, filterShape: [k, k, c, co] },
    );
    await compare(
      'Conv2DBackpropInput',
      { dy: { shape: [n, co, oh, ow], data: values(n * co * oh * ow, 14) }, filter: { shape: [k, k, c, co], data: values(k * k * c * co, 15) } },
      { ...attrs, inputShape: [n, c, h, w] },
    );
  });
});

describe('version guard on the private tfjs-backend-wasm members', () => {
  it('accepts the tested release, refuses another with the fix, unless CV_WASM_UNTESTED=1', async () => {
    const { TESTED_WASM_VERSION, wasmVersionProblem } = await import('./native/heap');
    const { version_wasm } = await import('@tensorflow/tfjs-backend-wasm');
    expect(version_wasm).toBe(TESTED_WASM_VERSION); // package.json pins the release the kernels read
    expect(wasmVersionProblem(TESTED_WASM_VERSION, {})).toBeNull();
    expect(wasmVersionProblem('4.23.0', {})).toMatch(/4\.23\.0 is installed.*private members of 4\.22\.0.*Pin @tensorflow\/\* to 4\.22\.0/);
    expect(wasmVersionProblem('4.23.0', { CV_WASM_UNTESTED: '1' })).toBeNull();
  });
});
