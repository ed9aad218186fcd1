import type * as tf from '@tensorflow/tfjs';

/**
 * Inference precision of an inference graph's convolutions. `f32`: as trained. `bf16`: inputs and filters
 * rounded to bfloat16 (8-bit mantissa), products accumulated in f32 — where the engine's native kernels run on
 * cores with AMX or AVX512-BF16, several times the f32 throughput per convolution. `auto`: bf16 where those
 * kernels and cores are present, f32 everywhere else (the browser, WebGPU, ONNX Runtime, older CPUs).
 */
export type Precision = 'auto' | 'f32' | 'bf16';

/** What a kernel needs to know of an immutable filter: its key (for caches) and the precision asked for. */
export interface FilterMark {
  key: number;
  precision: 'f32' | 'bf16';
}

// Keyed by the tensor's dataId: the kernel sees TensorInfos, and a dataId's contents never change (tfjs tensors are
// immutable), so a kernel may keep work derived from a marked filter for as long as the mark lives.
const marks = new WeakMap<object, FilterMark>();
let nextKey = 0;
let release: ((key: number) => void) | null = null;
let native = false;
let bf16Fast = false;

/**
 * Marks a constant filter of an inference graph: kernels may cache its converted layout under `key` and run it
 * at `precision`. Returns the mark. Browser-safe: only the native kernels read marks.
 */
export function markInferenceFilter(filter: tf.Tensor, precision: 'f32' | 'bf16'): FilterMark {
  const mark = { key: nextKey++ & 0x7fffffff, precision };
  marks.set(filter.dataId, mark);
  return mark;
}

/** The mark of a filter's data (a kernel's `filter.dataId`), if it is an inference graph's. */
export function inferenceFilterMark(dataId: object): FilterMark | undefined {
  return marks.get(dataId);
}

/** Forgets a filter's mark (its tensor is being disposed) and lets the kernels drop what they derived from it. */
export function releaseInferenceFilter(filter: tf.Tensor): void {
  const mark = marks.get(filter.dataId);
  if (!mark) return;
  marks.delete(filter.dataId);
  release?.(mark.key);
}

/** Set by the native kernels' registration: how they drop a released filter's cache, and whether bf16 runs natively. */
export function setNativeFilterSupport(support: { release: (key: number) => void; fastBf16: boolean } | null): void {
  release = support?.release ?? null;
  native = support !== null;
  bf16Fast = support?.fastBf16 ?? false;
}

/**
 * The precision an inference graph gets on `backend`: `bf16` only where the native kernels run (they alone
 * implement it; elsewhere a bf16 request runs f32), `auto` only where they run it natively, else `f32`.
 */
export function resolvePrecision(precision: Precision, backend: string): 'f32' | 'bf16' {
  const available = native && backend === 'wasm';
  if (precision === 'bf16') return available ? 'bf16' : 'f32';
  return precision === 'auto' && available && bf16Fast ? 'bf16' : 'f32';
}

let training: 'f32' | 'bf16' = 'f32';

/**
 * Runs `step` with the training convolutions (forward of filters that are not an inference graph's, input and filter
 * gradients) at `precision`: bf16 operands, f32 sums and f32 results (mixed precision, as PyTorch's CPU autocast
 * does for convolutions). Only the native kernels implement bf16; elsewhere the step runs f32.
 */
export async function withTrainingPrecision<T>(precision: 'f32' | 'bf16', step: () => T | Promise<T>): Promise<T> {
  const previous = training;
  training = precision;
  try {
    return await step();
  } finally {
    training = previous;
  }
}

/** The precision of the convolutions of the training step running now (`withTrainingPrecision`). */
export function trainingPrecision(): 'f32' | 'bf16' {
  return training;
}
