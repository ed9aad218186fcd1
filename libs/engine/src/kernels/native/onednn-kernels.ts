import * as tf from '@tensorflow/tfjs';
import type { OneDnnAddon } from './addon';
import { elementwiseImplementations } from './elementwise';
import { allFloat, offsetOf, runNative, size, type KernelArgs, type NativeImpl, type WasmBackend } from './heap';
import { packArgs } from './layouts';
import { inferenceFilterMark, trainingPrecision } from '../precision';

type Attrs = Record<string, any>;

/**
 * Activations the native kernels fuse. 'swish' (x·sigmoid(x)) is not one of tfjs's fused activations: only the
 * engine's inference graph (`fuseForInference`) asks for it, and only while these kernels are registered.
 */
export const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, leakyrelu: 5, swish: 6 };

interface ConvCall {
  info: tf.backend_util.Conv2DInfo;
  groups: number;
  act: number;
  alpha: number;
  /** An inference graph's constant filter: its key (converted once natively) and 1 for a bf16 forward; else -1 / 0. */
  filterKey?: number;
  bf16?: boolean;
}

/** The addon's convolution arguments (layouts.json `conv`): geometry, groups, activation, then the offsets (x, w, bias, y). */
function convParams({ info, groups, act, filterKey = -1, bf16 = false }: ConvCall, offs: [number, number, number, number]): Int32Array {
  const p = info.padInfo;
  return packArgs(
    'conv',
    {
      batch: info.batchSize,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      inChannels: info.inChannels,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      outChannels: info.outChannels,
      filterHeight: info.filterHeight,
      filterWidth: info.filterWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      dilationHeight: info.dilationHeight,
      dilationWidth: info.dilationWidth,
      padTop: p.top,
      padLeft: p.left,
      padBottom: p.bottom,
      padRight: p.right,
      groups,
      activation: act,
      precision: bf16 ? 1 : 0,
      filterKey,
    },
    offs,
  );
}

/** Conv geometry in NHWC; null when the case is not one the addon takes (NCHW, odd padding values). */
function convInfo(xShape: number[], filterShape: number[], attrs: Attrs, depthwise: boolean): tf.backend_util.Conv2DInfo | null {
  if (attrs.dataFormat === 'NCHW' || attrs.dataFormat === 'channelsFirst') return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
  const p = info.padInfo;
  if ([p.top, p.left, p.bottom, p.right].some((v) => v < 0) || info.outHeight <= 0 || info.outWidth <= 0) return null;
  return info;
}

/** A kernel that runs natively where `native` returns a result and falls back to `fallback` elsewhere. */
function withFallback(fallback: tf.KernelConfig, native: (args: KernelArgs, b: WasmBackend) => tf.TensorInfo | tf.TensorInfo[] | null): tf.KernelConfig {
  return {
    ...fallback,
    kernelFunc: (args) => native(args as KernelArgs, args.backend as unknown as WasmBackend) ?? fallback.kernelFunc(args),
  };
}

function convForward(addon: OneDnnAddon, depthwise: boolean, fused: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const { x, filter } = inputs as Record<string, tf.TensorInfo>;
    const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
    const activation = fused ? String(attrs.activation ?? 'linear') : 'linear';
    if (!allFloat(x, filter, bias) || !(activation in ACTIVATIONS) || (fused && inputs.preluActivationWeights)) return null;
    const info = convInfo(x.shape, filter.shape, attrs, depthwise);
    if (!info || (bias && size(bias.shape) !== info.outChannels)) return null;
    const mark = inferenceFilterMark(filter.dataId);
    const call: ConvCall = {
      info,
      groups: depthwise ? info.inChannels : 1,
      act: ACTIVATIONS[activation],
      alpha: Number(attrs.leakyreluAlpha ?? 0.2),
      filterKey: mark?.key,
      bf16: mark ? mark.precision === 'bf16' : trainingPrecision() === 'bf16',
    };
    const outs = runNative(b, [[info.batchSize, info.outHeight, info.outWidth, info.outChannels]], (heap, [y]) =>
      addon.convForward(heap, convParams(call, [offsetOf(b, x), offsetOf(b, filter), bias ? offsetOf(b, bias) : -1, offsetOf(b, y)]), call.alpha),
    );
    return outs?.[0] ?? null;
  };
}

function convBackwardData(addon: OneDnnAddon, depthwise: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const { dy, filter } = inputs as Record<string, tf.TensorInfo>;
    const inShape = attrs.inputShape as number[];
    if (!allFloat(dy, filter) || size(inShape) === 0) return null;
    const info = convInfo(inShape, filter.shape, attrs, depthwise);
    if (!info || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
    const call: ConvCall = { info, groups: depthwise ? info.inChannels : 1, act: 0, alpha: 0, bf16: trainingPrecision() === 'bf16' };
    const outs = runNative(b, [inShape], (heap, [dx]) =>
      addon.convBackwardData(heap, convParams(call, [offsetOf(b, dx), offsetOf(b, filter), -1, offsetOf(b, dy)])),
    );
    return outs?.[0] ?? null;
  };
}

function convBackwardWeights(addon: OneDnnAddon, depthwise: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const { x, dy } = inputs as Record<string, tf.TensorInfo>;
    const filterShape = attrs.filterShape as number[];
    if (!allFloat(x, dy) || size(filterShape) === 0) return null;
    const info = convInfo(x.shape, filterShape, attrs, depthwise);
    if (!info || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
    const call: ConvCall = { info, groups: depthwise ? info.inChannels : 1, act: 0, alpha: 0, bf16: trainingPrecision() === 'bf16' };
    const outs = runNative(b, [filterShape], (heap, [dw]) =>
      addon.convBackwardWeights(heap, convParams(call, [offsetOf(b, x), offsetOf(b, dw), -1, offsetOf(b, dy)])),
    );
    return outs?.[0] ?? null;
  };
}

function matMul(addon: OneDnnAddon, fused: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const { a, b: bt } = inputs as Record<string, tf.TensorInfo>;
    const bias = fused ? (inputs.bias as tf.TensorInfo | undefined) : undefined;
    const activation = fused ? String(attrs.activation ?? 'linear') : 'linear';
    if (!allFloat(a, bt, bias) || !(activation in ACTIVATIONS) || (fused && inputs.preluActivationWeights)) return null;
    if (a.shape.length < 2 || bt.shape.length < 2) return null;
    const ta = !!attrs.transposeA;
    const tb = !!attrs.transposeB;
    const [ar, ac] = a.shape.slice(-2);
    const [br, bc] = bt.shape.slice(-2);
    const [m, k] = ta ? [ac, ar] : [ar, ac];
    const n = tb ? br : bc;
    if ((tb ? bc : br) !== k) return null;
    const outerA = a.shape.slice(0, -2);
    const outerB = bt.shape.slice(0, -2);
    const batchA = size(outerA);
    const batchB = size(outerB);
    // Equal batches, or one side a single matrix (broadcast); other broadcasts stay with wasm.
    if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
    if (bias && size(bias.shape) !== n) return null;
    let outer: number[];
    try {
      outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
    } catch {
      return null; // tfjs's own kernel reports the shape error
    }
    if (size(outer) !== Math.max(batchA, batchB)) return null;
    const act = ACTIVATIONS[activation];
    const alpha = Number(attrs.leakyreluAlpha ?? 0.2);
    const outs = runNative(b, [[...outer, m, n]], (heap, [c]) =>
      addon.matmul(
        heap,
        packArgs('matmul', { batchA, batchB, m, k, n, transA: ta ? 1 : 0, transB: tb ? 1 : 0, activation: act }, [
          offsetOf(b, a),
          offsetOf(b, bt),
          bias ? offsetOf(b, bias) : -1,
          offsetOf(b, c),
        ]),
        alpha,
      ),
    );
    return outs?.[0] ?? null;
  };
}

function poolInfo(xShape: number[], attrs: Attrs): tf.backend_util.Conv2DInfo | null {
  if (attrs.dataFormat === 'NCHW') return null;
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const p = info.padInfo;
  if ([p.top, p.left, p.bottom, p.right].some((v) => v < 0) || info.outHeight <= 0 || info.outWidth <= 0) return null;
  // oneDNN wants every window to touch the input; tfjs never builds one that does not, but a huge pad could.
  if (p.top >= info.filterHeight || p.left >= info.filterWidth || p.bottom >= info.filterHeight || p.right >= info.filterWidth) return null;
  return info;
}

/** The addon's pooling arguments (layouts.json `pool`), then the offsets (x, y forward; x, dy, dx backward). */
function poolParams(info: tf.backend_util.Conv2DInfo, avg: boolean, offs: number[]): Int32Array {
  const p = info.padInfo;
  return packArgs(
    'pool',
    {
      batch: info.batchSize,
      inHeight: info.inHeight,
      inWidth: info.inWidth,
      channels: info.inChannels,
      outHeight: info.outHeight,
      outWidth: info.outWidth,
      filterHeight: info.filterHeight,
      filterWidth: info.filterWidth,
      strideHeight: info.strideHeight,
      strideWidth: info.strideWidth,
      padTop: p.top,
      padLeft: p.left,
      padBottom: p.bottom,
      padRight: p.right,
      average: avg ? 1 : 0,
    },
    offs,
  );
}

function poolForward(addon: OneDnnAddon, avg: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const x = inputs.x as tf.TensorInfo;
    if (!allFloat(x) || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs);
    if (!info) return null;
    const outs = runNative(b, [[info.batchSize, info.outHeight, info.outWidth, info.outChannels]], (heap, [y]) =>
      addon.poolForward(heap, poolParams(info, avg, [offsetOf(b, x), offsetOf(b, y)])),
    );
    return outs?.[0] ?? null;
  };
}

function poolBackward(addon: OneDnnAddon, avg: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const { dy, input: x } = inputs as Record<string, tf.TensorInfo>;
    if (!allFloat(dy, x) || x.shape.length !== 4) return null;
    const info = poolInfo(x.shape, attrs);
    if (!info || info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
    const outs = runNative(b, [x.shape], (heap, [dx]) => addon.poolBackward(heap, poolParams(info, avg, [offsetOf(b, x), offsetOf(b, dy), offsetOf(b, dx)])));
    return outs?.[0] ?? null;
  };
}

/**
 * Sum / Mean over a contiguous run of axes ([A, R, B] → [A, B]): bias and BatchNorm gradients, moments.
 * Other axis sets stay with the previous kernel.
 */
function reduce(addon: OneDnnAddon, mean: boolean) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const x = inputs.x as tf.TensorInfo;
    if (!allFloat(x)) return null;
    const rank = x.shape.length;
    const axes = [...new Set((Array.isArray(attrs.axis) ? attrs.axis : [attrs.axis]).map((a: number) => (a < 0 ? a + rank : a)))].sort(
      (p, q) => p - q,
    ) as number[];
    if (axes.length === 0 || axes.some((a, i) => a !== axes[0] + i || a >= rank)) return null;
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = size(x.shape.slice(0, first));
    const reduced = size(x.shape.slice(first, last + 1));
    const inner = size(x.shape.slice(last + 1));
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    const outs = runNative(b, [outShape], (heap, [y]) =>
      addon.reduce(heap, Int32Array.from([outer, reduced, inner, mean ? 1 : 0, offsetOf(b, x), offsetOf(b, y)])),
    );
    return outs?.[0] ?? null;
  };
}

/** CvSumSquares (gradient clipping's global norm) over all gradients in one parallel native pass. */
function sumSquares(addon: OneDnnAddon) {
  return ({ inputs }: KernelArgs, b: WasmBackend): ReturnType<NativeImpl> => {
    const xs = Object.values(inputs) as tf.TensorInfo[];
    if (!addon.sumSquares || !xs.length || !allFloat(...xs)) return null;
    const outs = runNative(b, [[]], (heap, [y]) =>
      addon.sumSquares!(heap, Int32Array.from([xs.length, ...xs.flatMap((x) => [offsetOf(b, x), size(x.shape)]), offsetOf(b, y)])),
    );
    return outs?.[0] ?? null;
  };
}

/** CvEmaUpdate (the weight average, all pairs `e0, w0, e1, w1, …`) in one parallel native pass; the same bits as kernels/ema-update.ts. */
function emaUpdate(addon: OneDnnAddon) {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend): tf.TensorInfo[] | null => {
    const n = Object.keys(inputs).length / 2;
    const pairs = Array.from({ length: n }, (_, i) => [inputs[`e${i}`], inputs[`w${i}`]] as tf.TensorInfo[]);
    if (!addon.emaUpdate || !n || !allFloat(...pairs.flat())) return null;
    const decay = Number(attrs.decay);
    const bits = new Int32Array(new Float32Array([decay, 1 - decay]).buffer); // d and 1 − d rounded to float32, as the JavaScript kernel
    return runNative(
      b,
      pairs.map(([e]) => e.shape),
      (heap, outs) =>
        addon.emaUpdate!(
          heap,
          Int32Array.from([n, ...bits, ...pairs.flatMap(([e, w], i) => [size(e.shape), offsetOf(b, e), offsetOf(b, w), offsetOf(b, outs[i])])]),
        ),
    );
  };
}

/** Which oneDNN path serves each kernel name. */
function nativeImplementations(addon: OneDnnAddon): Record<string, (args: KernelArgs, b: WasmBackend) => tf.TensorInfo | tf.TensorInfo[] | null> {
  return {
    ...elementwiseImplementations(addon),
    Conv2D: convForward(addon, false, false),
    FusedConv2D: convForward(addon, false, true),
    DepthwiseConv2dNative: convForward(addon, true, false),
    FusedDepthwiseConv2D: convForward(addon, true, true),
    Conv2DBackpropInput: convBackwardData(addon, false),
    DepthwiseConv2dNativeBackpropInput: convBackwardData(addon, true),
    Conv2DBackpropFilter: convBackwardWeights(addon, false),
    DepthwiseConv2dNativeBackpropFilter: convBackwardWeights(addon, true),
    BatchMatMul: matMul(addon, false),
    _FusedMatMul: matMul(addon, true),
    MaxPool: poolForward(addon, false),
    AvgPool: poolForward(addon, true),
    MaxPoolGrad: poolBackward(addon, false),
    AvgPoolGrad: poolBackward(addon, true),
    Sum: reduce(addon, false),
    Mean: reduce(addon, true),
    CvSumSquares: sumSquares(addon),
    CvEmaUpdate: emaUpdate(addon),
  };
}

/** Names of the kernels the oneDNN addon provides on the wasm backend. */
export const ONEDNN_KERNEL_NAMES = Object.freeze(Object.keys(nativeImplementations({} as OneDnnAddon)));

const NATIVE = Symbol.for('cv.engine.onednnKernel');

/**
 * Registers the oneDNN kernels over the wasm backend's current ones (call after the engine's composed
 * wasm kernels are registered); each keeps the previous kernel for the cases oneDNN does not take.
 * Idempotent.
 *
 * The layer-level fusions over these kernels are `registerOneDnnKernels` (infer/fused-layers.ts).
 */
export function registerOneDnnOps(addon: OneDnnAddon, skip: string[]): void {
  for (const [name, native] of Object.entries(nativeImplementations(addon))) {
    if (skip.includes(name)) continue; // diagnosis: CV_ONEDNN_SKIP=Conv2D,Sum leaves those to wasm
    const current = tf.getKernel(name, 'wasm') as (tf.KernelConfig & { [NATIVE]?: tf.KernelConfig }) | undefined;
    if (!current) continue;
    const fallback = current[NATIVE] ?? current;
    const config = withFallback(fallback, native) as tf.KernelConfig & { [NATIVE]?: tf.KernelConfig };
    config[NATIVE] = fallback;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
}

/** Puts back the kernels that `registerOneDnnKernels` wrapped (pure wasm again). */
export function unregisterOneDnnOps(): void {
  for (const name of ONEDNN_KERNEL_NAMES) {
    const current = tf.getKernel(name, 'wasm') as (tf.KernelConfig & { [NATIVE]?: tf.KernelConfig }) | undefined;
    if (!current?.[NATIVE]) continue;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(current[NATIVE]);
  }
}
