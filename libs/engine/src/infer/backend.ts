import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import { registerWasmTrainingKernels } from '../kernels/register';
import { loadOneDnnAddon } from '../kernels/native/addon';
import { assertWasmInternals, wasmVersionProblem } from '../kernels/native/heap';
import { installLayerFusion, registerOneDnnKernels, unregisterOneDnnKernels } from './fused-layers';
import { registerWebgpuKernels } from '../kernels/webgpu/register';

/** Backends the engine can run on, in the order it tries them. */
export const BACKEND_ORDER = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

/** Kernel sets on the wasm backend: native oneDNN (when its addon is built) or the composed wasm kernels. */
export const KERNEL_CHOICES = ['onednn', 'wasm'] as const;
export type KernelsName = (typeof KERNEL_CHOICES)[number] | 'tensorflow' | 'webgpu' | 'cpu';

/** `--device`: any backend (auto), no GPU backend (cpu), or a GPU backend or nothing (gpu). */
export const DEVICES = ['auto', 'cpu', 'gpu'] as const;
export type Device = (typeof DEVICES)[number];

/** The WebGPU adapter a `webgpu` backend runs on (Dawn's adapter info). */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader, lavapipe): correct, not fast. */
  fallback: boolean;
}

/** What `initBackend` chose; printed as the first log line of every job. */
export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' | 'wasm' | 'cpu'. */
  name: BackendName;
  /** Threads the backend computes with (per replica). */
  threads: number;
  /** Which kernels do the heavy work: 'onednn' | 'wasm' on the wasm backend, else the backend's own. */
  kernels: KernelsName;
  /** Why oneDNN kernels are not in use when they are not (e.g. 'not built (apt-get install ...)'). */
  kernelsNote?: string;
  /** Where it came from, e.g. '@tensorflow/tfjs-node-gpu' or '@tensorflow/tfjs-backend-wasm'. */
  source: string;
  /** The GPU it runs on (webgpu). */
  adapter?: AdapterInfo;
  /** Why a GPU backend is not in use when it is not (e.g. 'webgpu: no adapter ...'). */
  gpuNote?: string;
}

export interface InitBackendOptions {
  /** Force one backend; defaults to the `CV_BACKEND` env var, else the first that loads. */
  backend?: string;
  /** `--device`: 'cpu' skips the GPU backends, 'gpu' accepts only them (default 'auto': the first that loads). */
  device?: Device;
  /** Force a kernel set on wasm; defaults to the `CV_KERNELS` env var, else oneDNN when its addon loads. */
  kernels?: string;
  /** oneDNN threads per replica; defaults to `CV_THREADS`, else the cores divided among the replicas. */
  threads?: number;
  /** Data-parallel replicas the job will run (each gets its share of the cores); default 1. */
  replicas?: number;
  /** Print the one-line backend banner (default true). */
  log?: boolean | ((line: string) => void);
}

/** The npm packages that provide the native `tensorflow` backend, GPU first. */
const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'];

async function tryTensorflow(): Promise<BackendInfo | null> {
  for (const pkg of NATIVE_PACKAGES) {
    try {
      // A variable specifier keeps bundlers and tsc from resolving an optional package.
      const specifier = pkg;
      await import(/*turbopackIgnore: true*/ specifier);
      if (await tf.setBackend('tensorflow')) {
        return { name: 'tensorflow', threads: os.cpus().length, source: pkg, kernels: 'tensorflow' };
      }
    } catch {
      // Optional dependency absent or libtensorflow missing: try the next one.
    }
  }
  return null;
}

/** A software WebGPU adapter (SwiftShader, lavapipe, llvmpipe): it computes correctly, on the CPU. */
const isSoftware = (i: AdapterInfo) => i.fallback || /swiftshader|lavapipe|llvmpipe/i.test(`${i.architecture} ${i.description} ${i.device}`);

/** A GPU device node or an explicit Vulkan driver (Linux); elsewhere Dawn is simply asked. */
function gpuDevicePresent(): boolean {
  if (process.platform !== 'linux') return true;
  if (process.env.VK_DRIVER_FILES || process.env.VK_ICD_FILENAMES) return true;
  const has = (dir: string, prefix: string) => {
    try {
      return fs.readdirSync(dir).some((n) => n.startsWith(prefix));
    } catch {
      return false;
    }
  };
  return has('/dev/dri', 'renderD') || has('/dev', 'nvidia');
}

/**
 * Imports `@tensorflow/tfjs-backend-webgpu` (it registers itself only if `navigator.gpu` exists when it is
 * evaluated, so after the adapter is found). A variable specifier keeps bundlers from resolving the optional
 * package; a bundle that carries it passes a literal import instead (`setWebgpuBackendLoader`, bench:gpu's).
 */
let loadWebgpuBackend: () => Promise<unknown> = () => {
  const specifier = '@tensorflow/tfjs-backend-webgpu';
  return import(/*turbopackIgnore: true*/ specifier);
};

/** How the webgpu backend's package is imported (a bundle passes `() => import('@tensorflow/tfjs-backend-webgpu')`). */
export function setWebgpuBackendLoader(load: () => Promise<unknown>): void {
  loadWebgpuBackend = load;
}

/** The GPU object of Dawn's Node binding, kept while the backend lives (see `releaseBackend`). */
let dawnGpu: unknown = null;

/**
 * WebGPU through Dawn's Node binding (the optional `webgpu` package, its `dawn.node` shipped in the tarball) and
 * `@tensorflow/tfjs-backend-webgpu`. Without the packages, a Vulkan driver or a GPU adapter it says why (the
 * banner's note) and the next backend starts. A software adapter (SwiftShader) is taken only when webgpu is
 * forced (`CV_BACKEND=webgpu`): it is how the kernels are tested on machines without a GPU, not a way to train.
 * For now a GPU adapter is taken only when asked for (`--device gpu` or `CV_BACKEND=webgpu`), see below.
 */
async function tryWebgpu(options: InitBackendOptions, forced: boolean, notes: string[]): Promise<BackendInfo | null> {
  // Probing Vulkan on a machine without a GPU makes the drivers print warnings to stderr: left out unless asked for.
  if (!forced && options.device !== 'gpu' && !gpuDevicePresent()) {
    notes.push('webgpu: no GPU device (/dev/dri, /dev/nvidia*; VK_DRIVER_FILES unset)');
    return null;
  }
  // Vulkan's window-system probing complains without it, though no window is opened.
  process.env.XDG_RUNTIME_DIR ??= os.tmpdir();
  let dawn: { create(flags: string[]): { requestAdapter(o?: object): Promise<any> }; globals: object };
  try {
    const specifier = 'webgpu'; // optional: a variable specifier keeps bundlers and tsc from resolving it
    dawn = await import(/*turbopackIgnore: true*/ specifier);
  } catch {
    notes.push('webgpu: package not installed (npm install webgpu @tensorflow/tfjs-backend-webgpu)');
    return null;
  }
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    notes.push(
      'webgpu: no adapter (no Vulkan driver with a GPU: libvulkan1 and the GPU driver; to test on the CPU, VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json CV_BACKEND=webgpu)',
    );
    return null;
  }
  const i = adapter.info ?? {};
  const info: AdapterInfo = {
    vendor: String(i.vendor ?? ''),
    architecture: String(i.architecture ?? ''),
    device: String(i.device ?? ''),
    description: String(i.description ?? ''),
    fallback: Boolean(i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false),
  };
  const name = info.description || `${info.vendor} ${info.architecture}`.trim();
  if (isSoftware(info) && !forced) {
    notes.push(`webgpu: only a software adapter (${name}); CV_BACKEND=webgpu uses it`);
    return null;
  }
  // Not chosen on its own yet. Every task's train / val / predict reads back asynchronously now (WebGPU in Node has
  // no synchronous read), but the web server's handlers and some tools still read synchronously, and no GPU
  // timing shows yet that WebGPU beats the CPU path: take it on its own once bench:gpu on a GPU says so.
  if (!forced && options.device !== 'gpu') {
    notes.push(`webgpu: ${name} found; --device gpu or CV_BACKEND=webgpu uses it (every task trains on it)`);
    return null;
  }
  // tfjs-backend-webgpu finds the GPU through navigator.gpu, as in a browser.
  Object.defineProperty(globalThis, 'navigator', { value: { ...(globalThis as { navigator?: object }).navigator, gpu }, configurable: true, writable: true });
  dawnGpu = gpu;
  try {
    if (!tf.findBackendFactory('webgpu')) await loadWebgpuBackend();
    if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') throw new Error('setBackend failed');
    if (registerWebgpuKernels()) installLayerFusion();
  } catch (e) {
    releaseBackend();
    notes.push(`webgpu: ${name} found, but the tfjs webgpu backend did not start (${(e as Error).message})`);
    return null;
  }
  void options;
  return {
    name: 'webgpu',
    threads: 1,
    kernels: 'webgpu',
    source: `@tensorflow/tfjs-backend-webgpu on ${name}${info.fallback ? ' (software)' : ''}`,
    adapter: info,
  };
}

/**
 * Lets the process end: Dawn's binding keeps Node alive while its GPU object is reachable, so the webgpu
 * backend is disposed and the reference dropped. Jobs call it when they finish (`runCli` does).
 */
export function releaseBackend(): void {
  if (!dawnGpu) return;
  try {
    if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  } catch {
    // already gone
  }
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && nav.gpu === dawnGpu) delete (nav as { gpu?: unknown }).gpu;
  dawnGpu = null;
}

/** Cores this process may use. */
export function availableCores(): number {
  return os.availableParallelism?.() ?? os.cpus().length;
}

function resolveThreads(options: InitBackendOptions): number {
  const env = process.env.CV_THREADS?.trim();
  if (options.threads && options.threads > 0) return options.threads;
  if (env) {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`CV_THREADS='${env}' is not a positive integer thread count`);
    return n;
  }
  return Math.max(1, Math.floor(availableCores() / Math.max(1, options.replicas ?? 1)));
}

/** Chooses the kernels on a started wasm backend: oneDNN when it loads (or is forced), else composed wasm. */
function chooseWasmKernels(options: InitBackendOptions, wasmThreads: number): Pick<BackendInfo, 'kernels' | 'threads' | 'kernelsNote'> {
  const forced = (options.kernels ?? process.env.CV_KERNELS ?? '').trim();
  if (forced && !(KERNEL_CHOICES as readonly string[]).includes(forced)) {
    throw new Error(`CV_KERNELS='${forced}' is not a kernel set; use one of: ${KERNEL_CHOICES.join(', ')}`);
  }
  if (forced === 'wasm') {
    unregisterOneDnnKernels();
    return { kernels: 'wasm', threads: wasmThreads, kernelsNote: 'composed wasm kernels chosen (CV_KERNELS=wasm)' };
  }
  const loaded = loadOneDnnAddon();
  if ('error' in loaded) {
    if (forced === 'onednn') throw new Error(`CV_KERNELS=onednn, but the oneDNN addon is ${loaded.error}`);
    unregisterOneDnnKernels();
    return { kernels: 'wasm', threads: wasmThreads, kernelsNote: `oneDNN kernels ${loaded.error}` };
  }
  assertWasmInternals(tf.backend());
  registerOneDnnKernels(loaded.addon);
  const threads = loaded.addon.setThreads(resolveThreads(options));
  return { kernels: 'onednn', threads, kernelsNote: `oneDNN ${loaded.addon.version()}` };
}

async function tryWasm(options: InitBackendOptions): Promise<BackendInfo | null> {
  let wasm: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasm = await import('@tensorflow/tfjs-backend-wasm');
  } catch {
    return null;
  }
  const problem = wasmVersionProblem(wasm.version_wasm);
  if (problem) throw new Error(problem); // the kernels would misread another release's heap: fail loudly, not slowly
  try {
    registerWasmTrainingKernels();
    // setBackend returns false (and tfjs silently keeps another backend) when wasm fails to start.
    if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') return null;
  } catch {
    return null;
  }
  return { name: 'wasm', source: '@tensorflow/tfjs-backend-wasm', ...chooseWasmKernels(options, wasm.getThreadsCount()) };
}

async function tryCpu(): Promise<BackendInfo | null> {
  return (await tf.setBackend('cpu')) ? { name: 'cpu', threads: 1, source: '@tensorflow/tfjs-backend-cpu', kernels: 'cpu' } : null;
}

const LOADERS: Record<Exclude<BackendName, 'webgpu'>, (options: InitBackendOptions) => Promise<BackendInfo | null>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Pick and start the compute backend: `tensorflow` (tfjs-node-gpu, then tfjs-node) → `webgpu` (Dawn, a GPU
 * adapter) → `wasm` (with the engine's training kernels: native oneDNN when its addon is built, else composed
 * wasm) → `cpu`; `device` 'cpu' leaves webgpu out, 'gpu' takes only a GPU backend.
 * `CV_BACKEND` (or `options.backend`) forces a backend and `CV_KERNELS` a kernel set; each fails loudly
 * if it cannot start.
 *
 * @example
 * const info = await initBackend(); // "[engine] backend=wasm kernels=onednn threads=2 (...)"
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const forced = (options.backend ?? process.env.CV_BACKEND ?? '').trim();
  if (forced && !(BACKEND_ORDER as readonly string[]).includes(forced)) {
    throw new Error(`CV_BACKEND='${forced}' is not a backend; use one of: ${BACKEND_ORDER.join(', ')}`);
  }
  const device = options.device ?? 'auto';
  if (!(DEVICES as readonly string[]).includes(device)) throw new Error(`--device must be one of ${DEVICES.join(', ')}, got '${device}'`);
  const gpuCapable = (name: BackendName) => name === 'webgpu' || name === 'tensorflow';
  let order: BackendName[] = forced ? [forced as BackendName] : [...BACKEND_ORDER];
  if (device === 'cpu') order = order.filter((n) => n !== 'webgpu');
  if (device === 'gpu') order = order.filter(gpuCapable);
  const notes: string[] = [];
  let info: BackendInfo | null = null;
  for (const name of order) {
    info = name === 'webgpu' ? await tryWebgpu(options, forced === 'webgpu', notes) : await LOADERS[name](options);
    // tfjs-node without -gpu computes on the CPU: not what --device gpu asks for.
    if (info && device === 'gpu' && info.name === 'tensorflow' && info.source !== '@tensorflow/tfjs-node-gpu') info = null;
    if (info) break;
  }
  if (!info) {
    const hint =
      device === 'gpu'
        ? ` (--device gpu needs a GPU backend: ${notes.join('; ') || 'webgpu or @tensorflow/tfjs-node-gpu'})`
        : forced === 'tensorflow'
          ? ' (install @tensorflow/tfjs-node or -gpu; it needs libtensorflow)'
          : notes.length
            ? ` (${notes.join('; ')})`
            : '';
    throw new Error(`backend '${forced || order.join('/')}' could not start${hint}`);
  }
  if (notes.length && info.name !== 'webgpu') info.gpuNote = notes.join('; ');
  await tf.ready();
  const replicas = options.replicas && options.replicas > 1 ? ` replicas=${options.replicas}` : '';
  const note = [info.kernelsNote, info.gpuNote].filter(Boolean).join('; ');
  const line =
    `[engine] backend=${info.name} kernels=${info.kernels} threads=${info.threads}${replicas} ` +
    `(${info.source}, tfjs ${tf.version.tfjs}${note ? `; ${note}` : ''})`;
  if (typeof options.log === 'function') options.log(line);
  else if (options.log !== false) console.log(line);
  return info;
}
