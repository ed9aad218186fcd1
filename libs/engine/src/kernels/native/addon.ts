import type { NativeImageOps } from '../image-ops';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The oneDNN addon's entries (libs/engine/native/onednn.cc). Each kernel entry takes the wasm heap's
 * ArrayBuffer, an Int32Array of shape parameters followed by element offsets into that heap, and an
 * optional activation alpha; it returns false when oneDNN has no implementation for the case.
 */
export interface OneDnnAddon {
  convForward(heap: ArrayBufferLike, params: Int32Array, alpha?: number): boolean;
  convBackwardData(heap: ArrayBufferLike, params: Int32Array): boolean;
  convBackwardWeights(heap: ArrayBufferLike, params: Int32Array): boolean;
  matmul(heap: ArrayBufferLike, params: Int32Array, alpha?: number): boolean;
  poolForward(heap: ArrayBufferLike, params: Int32Array): boolean;
  poolBackward(heap: ArrayBufferLike, params: Int32Array): boolean;
  reduce(heap: ArrayBufferLike, params: Int32Array): boolean;
  binary(heap: ArrayBufferLike, params: Int32Array): boolean;
  unary(heap: ArrayBufferLike, params: Int32Array, alpha?: number): boolean;
  batchNorm(heap: ArrayBufferLike, params: Int32Array, epsilon: number): boolean;
  resizeNearestGrad(heap: ArrayBufferLike, params: Int32Array): boolean;
  concat(heap: ArrayBufferLike, params: Int32Array): boolean;
  split(heap: ArrayBufferLike, params: Int32Array): boolean;
  batchNormTrain(heap: ArrayBufferLike, params: Int32Array, epsilon: number): boolean;
  batchNormTrainGrad(heap: ArrayBufferLike, params: Int32Array, epsilon: number): boolean;
  swish(heap: ArrayBufferLike, params: Int32Array): boolean;
  swishGrad(heap: ArrayBufferLike, params: Int32Array): boolean;
  adam(heap: ArrayBufferLike, params: Int32Array): boolean;
  /** Adam over many variables in one call: [count, lr β1 β2 ε c1 c2 gradScale (float bits), (n, θ, g, m, v, θ', m', v') × count]. */
  adamMany?(heap: ArrayBufferLike, params: Int32Array): boolean;
  /** The weight average's update: [count, d, 1 − d (float bits), (n, ema, w, out) × count]. */
  emaUpdate?(heap: ArrayBufferLike, params: Int32Array): boolean;
  /** Sets the OpenMP threads of the calling thread's oneDNN calls; returns the count now in effect. */
  setThreads(n: number): number;
  getThreads(): number;
  version(): string;
  cacheSize(): number;
  /** Drops the calling thread's convolution primitives made for the immutable filter `key`; returns how many. */
  releaseFilter?(key: number): number;
  /** Whether oneDNN runs bf16 convolutions natively on this CPU (AMX or AVX512-BF16). */
  fastBf16?(): boolean;
  /**
   * The inference graph runner (graph.cc): compiles a spec (infer/native-graph.ts) with its weights into a graph of
   * the calling thread; `graphRun` runs it on a batch of `batch` images, reading the input and writing the outputs in
   * place at the float offsets `io` of `heap`; false where oneDNN has no implementation for one of its layers.
   */
  graphCreate?(spec: Int32Array, weights: Float32Array): number;
  graphRun?(id: number, heap: ArrayBufferLike, batch: number, io: Int32Array): boolean;
  graphRelease?(id: number): boolean;
  /** Writes bytes / 255 as floats (tfjs's RealDiv values) into `heap` from float offset `offset`. */
  pixelsToUnit?(heap: ArrayBufferLike, bytes: Uint8Array | Uint8ClampedArray, offset: number): boolean;
  /** Σ x² over float arrays: params [count, (offset, length) × count, out]. */
  sumSquares?(heap: ArrayBufferLike, params: Int32Array): boolean;
  warpAffine?: NativeImageOps['warpAffine'];
  flipX?: NativeImageOps['flipX'];
  hsvJitter?: NativeImageOps['hsvJitter'];
  bytesToUnit?: NativeImageOps['bytesToUnit'];
  /** glibc's malloc_trim(0): free C-heap pages back to the system; false where nothing was released. */
  mallocTrim?(): boolean;
}

/**
 * Gives the process's freed C-heap memory back to the system where the addon is built on glibc (e.g. after a
 * server decoded large uploads with libvips); a no-op returning false elsewhere. Cheap enough to call when idle.
 */
export function releaseFreeMemory(): boolean {
  const loaded = loadOneDnnAddon();
  return 'addon' in loaded ? (loaded.addon.mallocTrim?.() ?? false) : false;
}

/**
 * Where the repository's install step builds the addon; `CV_ONEDNN_ADDON` names it where this module runs
 * from a bundle (the demo server) and its own location says nothing about the repository's.
 */
export const ADDON_PATH = process.env.CV_ONEDNN_ADDON || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../native/build/cv_onednn.node');

/** What enables the native kernels on a machine that lacks them. */
export const ENABLE_HINT = 'apt-get install -y g++ libdnnl-dev && node libs/engine/native/build.mjs';

/** The loaded addon, or the one-line reason it could not load. */
export function loadOneDnnAddon(): { addon: OneDnnAddon } | { error: string } {
  if (!existsSync(/*turbopackIgnore: true*/ ADDON_PATH)) return { error: `not built (${ENABLE_HINT})` };
  try {
    const require = createRequire(import.meta.url);
    return { addon: require(/*turbopackIgnore: true*/ ADDON_PATH) as OneDnnAddon };
  } catch (e) {
    const reason = (e as Error).message.split('\n')[0];
    return { error: `failed to load ${ADDON_PATH}: ${reason} (is libdnnl2 installed? ${ENABLE_HINT})` };
  }
}
