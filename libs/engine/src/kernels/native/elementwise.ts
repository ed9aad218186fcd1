import * as tf from '@tensorflow/tfjs';
import type { OneDnnAddon } from './addon';
import { allFloat, offsetOf, runNative, size, type KernelArgs, type NativeImpl, type WasmBackend } from './heap';

/**
 * Memory-bound kernels in native code (on all of the job's threads): elementwise ops on large tensors,
 * batch-norm's normalisation, the nearest-upsampling gradient, concat and split. Below NATIVE_MIN
 * elements a call costs more than it saves, and the wasm kernel runs.
 */
export const NATIVE_MIN = 4096;

const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };
const UNARY: Record<string, number> = { Relu: 0, Sigmoid: 1, Step: 2, Square: 3, Neg: 4, Sqrt: 5, Exp: 7, Rsqrt: 8 };

/**
 * How an operand of `shape` is read over the broadcast output `out`: [mode, param] with mode 0 full,
 * 1 scalar, 2 inner (index i % param: it equals a suffix of out), 3 outer (index i / param: it equals a
 * prefix of out, ones after); null for other broadcasts.
 */
export function broadcastMode(shape: number[], out: number[]): [number, number] | null {
  const n = size(shape);
  if (n === size(out)) return [0, 0];
  if (n === 1) return [1, 0];
  const padded = [...new Array(out.length - shape.length).fill(1), ...shape];
  const first = padded.findIndex((d) => d !== 1);
  if (padded.slice(first).every((d, i) => d === out[first + i])) return [2, n];
  let last = padded.length - 1;
  while (padded[last] === 1) last--;
  if (padded.slice(0, last + 1).every((d, i) => d === out[i])) return [3, size(out.slice(last + 1))];
  return null;
}

function binary(addon: OneDnnAddon, op: number): NativeImpl {
  return ({ inputs }: KernelArgs, b: WasmBackend) => {
    const { a, b: bt } = inputs as Record<string, tf.TensorInfo>;
    if (!allFloat(a, bt)) return null;
    let out: number[];
    try {
      out = tf.backend_util.assertAndGetBroadcastShape(a.shape, bt.shape);
    } catch {
      return null;
    }
    const n = size(out);
    if (n < NATIVE_MIN) return null;
    const ma = broadcastMode(a.shape, out);
    const mb = broadcastMode(bt.shape, out);
    if (!ma || !mb) return null;
    const outs = runNative(b, [out], (heap, [y]) =>
      addon.binary(heap, Int32Array.from([op, n, ...ma, ...mb, offsetOf(b, a), offsetOf(b, bt), offsetOf(b, y)])),
    );
    return outs?.[0] ?? null;
  };
}

function unary(addon: OneDnnAddon, op: number): NativeImpl {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend) => {
    const x = inputs.x as tf.TensorInfo;
    if (!allFloat(x) || size(x.shape) < NATIVE_MIN) return null;
    const outs = runNative(b, [x.shape], (heap, [y]) =>
      addon.unary(heap, Int32Array.from([op, size(x.shape), offsetOf(b, x), offsetOf(b, y)]), Number(attrs.alpha ?? 0)),
    );
    return outs?.[0] ?? null;
  };
}

/** Cast of float32 to float32 (tfjs asks for it in every ReLU gradient): share the buffer. */
function sameTypeCast(): NativeImpl {
  return ({ inputs, attrs = {}, backend }: KernelArgs) => {
    const x = inputs.x as tf.TensorInfo;
    if (x.dtype !== 'float32' || attrs.dtype !== 'float32') return null;
    (backend as unknown as { incRef(id: object): void }).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

function batchNorm(addon: OneDnnAddon): NativeImpl {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend) => {
    const { x, mean, variance, offset, scale } = inputs as Record<string, tf.TensorInfo | undefined>;
    if (!x || !mean || !variance || !allFloat(x, mean, variance, offset, scale) || size(x.shape) < NATIVE_MIN) return null;
    const c = x.shape[x.shape.length - 1];
    if ([mean, variance, offset, scale].some((t) => t && size(t.shape) !== c)) return null;
    const outs = runNative(b, [x.shape], (heap, [y]) =>
      addon.batchNorm(
        heap,
        Int32Array.from([
          size(x.shape),
          c,
          offsetOf(b, x),
          offsetOf(b, mean),
          offsetOf(b, variance),
          offset ? offsetOf(b, offset) : -1,
          scale ? offsetOf(b, scale) : -1,
          offsetOf(b, y),
        ]),
        Number(attrs.varianceEpsilon ?? 1e-3),
      ),
    );
    return outs?.[0] ?? null;
  };
}

function resizeNearestGrad(addon: OneDnnAddon): NativeImpl {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend) => {
    const { images, dy } = inputs as Record<string, tf.TensorInfo>;
    if (attrs.alignCorners || !allFloat(images, dy) || images.shape.length !== 4) return null;
    const [n, h, w, c] = images.shape;
    const [fy, fx] = [dy.shape[1] / h, dy.shape[2] / w];
    if (!Number.isInteger(fy) || !Number.isInteger(fx) || dy.shape[0] !== n || dy.shape[3] !== c) return null;
    const outs = runNative(b, [images.shape], (heap, [dx]) =>
      addon.resizeNearestGrad(heap, Int32Array.from([n, h, w, c, fy, fx, offsetOf(b, dy), offsetOf(b, dx)])),
    );
    return outs?.[0] ?? null;
  };
}

function concat(addon: OneDnnAddon): NativeImpl {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend) => {
    const parts = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as tf.TensorInfo[];
    if (parts.length < 2 || !allFloat(...parts)) return null;
    const rank = parts[0].shape.length;
    const axis = tf.util.parseAxisParam(attrs.axis, parts[0].shape)[0];
    const out = tf.backend_util.computeOutShape(
      parts.map((p) => p.shape),
      axis,
    );
    if (size(out) < NATIVE_MIN || parts.some((p) => p.shape.length !== rank)) return null;
    const outer = size(out.slice(0, axis));
    const inner = parts.map((p) => size(p.shape.slice(axis)));
    const outs = runNative(b, [out], (heap, [y]) =>
      addon.concat(heap, Int32Array.from([outer, parts.length, ...inner, ...parts.map((p) => offsetOf(b, p)), offsetOf(b, y)])),
    );
    return outs?.[0] ?? null;
  };
}

function splitV(addon: OneDnnAddon): (args: KernelArgs, b: WasmBackend) => tf.TensorInfo[] | null {
  return ({ inputs, attrs = {} }: KernelArgs, b: WasmBackend) => {
    const x = inputs.x as tf.TensorInfo;
    if (!allFloat(x) || size(x.shape) < NATIVE_MIN) return null;
    const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis) as number[];
    const shapes = sizes.map((s) => x.shape.map((d, i) => (i === axis ? s : d)));
    const outer = size(x.shape.slice(0, axis));
    const inner = shapes.map((s) => size(s.slice(axis)));
    return runNative(b, shapes, (heap, outs) =>
      addon.split(heap, Int32Array.from([outer, outs.length, ...inner, ...outs.map((o) => offsetOf(b, o)), offsetOf(b, x)])),
    );
  };
}

/** The memory-bound kernels by name (SplitV returns several outputs). */
export function elementwiseImplementations(addon: OneDnnAddon): Record<string, NativeImpl | ((args: KernelArgs, b: WasmBackend) => tf.TensorInfo[] | null)> {
  return {
    ...Object.fromEntries(Object.entries(BINARY).map(([name, op]) => [name, binary(addon, op)])),
    ...Object.fromEntries(Object.entries(UNARY).map(([name, op]) => [name, unary(addon, op)])),
    Cast: sameTypeCast(),
    FusedBatchNorm: batchNorm(addon),
    ResizeNearestNeighborGrad: resizeNearestGrad(addon),
    Concat: concat(addon),
    SplitV: splitV(addon),
  };
}
