import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { registerWasmTrainingKernels } from '../kernels/register';
import { loadOneDnnAddon } from '../kernels/native/addon';
import { assertWasmInternals, wasmVersionProblem } from '../kernels/native/heap';
import { registerOneDnnKernels, unregisterOneDnnKernels } from './fused-layers';

/** Backends the engine can run on, in the order it tries them. */
export const BACKEND_ORDER = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

/** Kernel sets on the wasm backend: native oneDNN (when its addon is built) or the composed wasm kernels. */
export const KERNEL_CHOICES = ['onednn', 'wasm'] as const;
export type KernelsName = (typeof KERNEL_CHOICES)[number] | 'tensorflow' | 'cpu';

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
}

export interface InitBackendOptions {
  /** Force one backend; defaults to the `CV_BACKEND` env var, else the first that loads. */
  backend?: string;
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

const LOADERS: Record<BackendName, (options: InitBackendOptions) => Promise<BackendInfo | null>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Pick and start the compute backend: `tensorflow` (tfjs-node-gpu, then tfjs-node) → `wasm` (with the
 * engine's training kernels: native oneDNN when its addon is built, else composed wasm) → `cpu`.
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
  const order: BackendName[] = forced ? [forced as BackendName] : [...BACKEND_ORDER];
  let info: BackendInfo | null = null;
  for (const name of order) {
    info = await LOADERS[name](options);
    if (info) break;
  }
  if (!info) {
    const hint = forced === 'tensorflow' ? ' (install @tensorflow/tfjs-node or -gpu; it needs libtensorflow)' : '';
    throw new Error(`backend '${forced || order.join('/')}' could not start${hint}`);
  }
  await tf.ready();
  const replicas = options.replicas && options.replicas > 1 ? ` replicas=${options.replicas}` : '';
  const note = info.kernelsNote ? `; ${info.kernelsNote}` : '';
  const line = `[engine] backend=${info.name} kernels=${info.kernels} threads=${info.threads}${replicas} ` + `(${info.source}, tfjs ${tf.version.tfjs}${note})`;
  if (typeof options.log === 'function') options.log(line);
  else if (options.log !== false) console.log(line);
  return info;
}
