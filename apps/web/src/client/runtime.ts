/**
 * The page's own tfjs: WebGPU where the browser gives a WebGPU adapter (with the engine's WGSL kernels), else
 * wasm (webgl, then cpu, where wasm cannot start) with the engine's training kernels, and the shipped models
 * loaded in the page through the same Predictors as the server. Imported lazily by the pages, so no tfjs code
 * runs during server rendering. `?backend=wasm` in the page's address skips WebGPU.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { type DecodedImage, loadPredictor, type Predictor, registerWasmTrainingKernels, registerWebgpuKernels } from '@cv/engine/core';
import '@cv/tasks-classify/predict';
import '@cv/tasks-detect/predict';
import '@cv/tasks-segment/predict';
import '@cv/tasks-dcgan/predict';

let backend: Promise<string> | null = null;

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string };
}

/** WebGPU when the browser has an adapter: its name for the page (e.g. 'webgpu · google swiftshader'), else null. */
async function startWebgpu(): Promise<string | null> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu || new URLSearchParams(location.search).get('backend') === 'wasm') return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    await import('@tensorflow/tfjs-backend-webgpu');
    if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') return null;
    await tf.ready();
    registerWebgpuKernels();
    const i = adapter.info ?? {};
    const name = [i.vendor, i.architecture || i.description].filter(Boolean).join(' ');
    return name ? `webgpu · ${name}` : 'webgpu';
  } catch {
    return null; // wasm next
  }
}

/** Starts the page's backend once: WebGPU, else wasm with the engine's kernels, else webgl, else cpu. Returns its name. */
export function browserBackend(): Promise<string> {
  backend ??= (async () => {
    const webgpu = await startWebgpu();
    if (webgpu) return webgpu;
    setWasmPaths('/tfjs-wasm/');
    registerWasmTrainingKernels();
    for (const name of ['wasm', 'webgl', 'cpu']) {
      try {
        if ((await tf.setBackend(name)) && tf.getBackend() === name) {
          await tf.ready();
          return name;
        }
      } catch {
        // try the next backend
      }
    }
    throw new Error('no tfjs backend could start in this browser');
  })();
  return backend;
}

const predictors = new Map<string, Promise<Predictor>>();

/**
 * A shipped model's Predictor in the page (loaded once from /models/<id>/); `onProgress` hears the first load's
 * fraction of weights arrived (0..1).
 */
export async function browserPredictor<P extends Predictor>(id: string, onProgress?: (fraction: number) => void): Promise<P> {
  await browserBackend();
  if (!predictors.has(id)) {
    const loading = loadPredictor(`/models/${id}/model.json`, { onProgress });
    // A failed load is tried again next time, not remembered.
    loading.catch(() => predictors.delete(id));
    predictors.set(id, loading);
  }
  const p = (await predictors.get(id)!) as P;
  onProgress?.(1);
  return p;
}

/** `decodeInPage` with its milliseconds. */
export async function timedDecode(file: Blob): Promise<{ image: DecodedImage; ms: number }> {
  const t0 = performance.now();
  const image = await decodeInPage(file);
  return { image, ms: performance.now() - t0 };
}

/** The stages of an answer made in the page: the decode measured here, the rest from the Predictor. */
export const pageStages = (decodeMs: number, p: { timing: { preprocess: number; inference: number; postprocess: number } }) => ({
  decode: +decodeMs.toFixed(2),
  preprocess: +p.timing.preprocess.toFixed(2),
  inference: +p.timing.inference.toFixed(2),
  postprocess: +p.timing.postprocess.toFixed(2),
});

/** Decodes an image file in the page to RGBA bytes at its own size (what the Predictors take). */
export async function decodeInPage(file: Blob): Promise<DecodedImage> {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: canvas.width, height: canvas.height, channels: 4 };
}

export { tf };
