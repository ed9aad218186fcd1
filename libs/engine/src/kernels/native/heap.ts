import * as tf from '@tensorflow/tfjs';

/** A kernel's arguments, with attributes read loosely (tfjs types them as a union of every attribute kind). */
export type KernelArgs = Omit<Parameters<tf.KernelFunc>[0], 'attrs'> & { attrs?: Record<string, any> };

/** The parts of tfjs-backend-wasm 4.22's backend object these kernels use (not its public API). */
export interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The tfjs-backend-wasm release whose private members (heap, dataIdMap, makeOutput) the engine's kernels were written and tested against. */
export const TESTED_WASM_VERSION = '4.22.0';

/**
 * Why an installed tfjs-backend-wasm cannot be trusted with the engine's kernels (another release than
 * the tested one), or null. `CV_WASM_UNTESTED=1` accepts any release (the members are still checked).
 */
export function wasmVersionProblem(version: string, env: Record<string, string | undefined> = process.env): string | null {
  if (version === TESTED_WASM_VERSION || env.CV_WASM_UNTESTED === '1') return null;
  return (
    `@tensorflow/tfjs-backend-wasm ${version} is installed; the engine's kernels read private members of ${TESTED_WASM_VERSION} ` +
    `(heap, dataIdMap, makeOutput). Pin @tensorflow/* to ${TESTED_WASM_VERSION} (npm ci), or set CV_WASM_UNTESTED=1 to try this release anyway`
  );
}

/** Checks that the wasm backend still has the private members the native kernels read. */
export function assertWasmInternals(backend: unknown): asserts backend is WasmBackend {
  const b = backend as Partial<WasmBackend>;
  if (
    !(b?.wasm?.HEAPU8 instanceof Uint8Array) ||
    typeof b.dataIdMap?.get !== 'function' ||
    typeof b.makeOutput !== 'function' ||
    typeof b.disposeData !== 'function'
  ) {
    throw new Error(
      `tfjs-backend-wasm ${tf.version.tfjs} lacks the heap/dataIdMap/makeOutput members the oneDNN kernels use; ` +
        'pin @tensorflow/* to 4.22.0 or run with CV_KERNELS=wasm',
    );
  }
}

export const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Element offset of a tensor in the wasm heap (float index). */
export function offsetOf(b: WasmBackend, t: tf.TensorInfo): number {
  return b.dataIdMap.get(t.dataId)!.memoryOffset / 4;
}

/** Runs a native entry on freshly allocated outputs; frees them and returns null when it declines. */
export function runNative(b: WasmBackend, outShapes: number[][], call: (heap: ArrayBufferLike, outs: tf.TensorInfo[]) => boolean): tf.TensorInfo[] | null {
  const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
  // Taken after allocating the outputs: allocation can grow the heap, which detaches older buffers.
  if (call(b.wasm.HEAPU8.buffer, outs)) return outs;
  outs.forEach((o) => b.disposeData(o.dataId, true));
  return null;
}

export function allFloat(...ts: (tf.TensorInfo | undefined)[]): boolean {
  return ts.every((t) => !t || (t.dtype === 'float32' && size(t.shape) > 0));
}

/** A native kernel body: its result, or null to hand the call to the previous kernel. */
export type NativeImpl = (args: KernelArgs, b: WasmBackend) => tf.TensorInfo | null;
