import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { registerWasmTrainingKernels } from './kernels/register';

/** Backends the engine can run on, in the order it tries them. */
export const BACKEND_ORDER = ['tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

/** What `initBackend` chose; printed as the first log line of every job. */
export interface BackendInfo {
  /** tfjs backend name: 'tensorflow' | 'wasm' | 'cpu'. */
  name: BackendName;
  /** Threads the backend computes with. */
  threads: number;
  /** Where it came from, e.g. '@tensorflow/tfjs-node-gpu' or '@tensorflow/tfjs-backend-wasm'. */
  source: string;
}

export interface InitBackendOptions {
  /** Force one backend; defaults to the `CV_BACKEND` env var, else the first that loads. */
  backend?: string;
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
      await import(specifier);
      if (await tf.setBackend('tensorflow')) {
        return { name: 'tensorflow', threads: os.cpus().length, source: pkg };
      }
    } catch {
      // Optional dependency absent or libtensorflow missing: try the next one.
    }
  }
  return null;
}

async function tryWasm(): Promise<BackendInfo | null> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    registerWasmTrainingKernels();
    // setBackend returns false (and tfjs silently keeps another backend) when wasm fails to start.
    if (!(await tf.setBackend('wasm')) || tf.getBackend() !== 'wasm') return null;
    return { name: 'wasm', threads: wasm.getThreadsCount(), source: '@tensorflow/tfjs-backend-wasm' };
  } catch {
    return null;
  }
}

async function tryCpu(): Promise<BackendInfo | null> {
  return (await tf.setBackend('cpu')) ? { name: 'cpu', threads: 1, source: '@tensorflow/tfjs-backend-cpu' } : null;
}

const LOADERS: Record<BackendName, () => Promise<BackendInfo | null>> = {
  tensorflow: tryTensorflow,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Pick and start the compute backend: `tensorflow` (tfjs-node-gpu, then tfjs-node) → `wasm` (with the
 * engine's training kernels) → `cpu`. `CV_BACKEND` (or `options.backend`) forces one and fails loudly if it
 * cannot start.
 *
 * @example
 * const info = await initBackend(); // "[engine] backend=wasm threads=1 (...)"
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const forced = (options.backend ?? process.env.CV_BACKEND ?? '').trim();
  if (forced && !(BACKEND_ORDER as readonly string[]).includes(forced)) {
    throw new Error(`CV_BACKEND='${forced}' is not a backend; use one of: ${BACKEND_ORDER.join(', ')}`);
  }
  const order: BackendName[] = forced ? [forced as BackendName] : [...BACKEND_ORDER];
  let info: BackendInfo | null = null;
  for (const name of order) {
    info = await LOADERS[name]();
    if (info) break;
  }
  if (!info) {
    const hint = forced === 'tensorflow' ? ' (install @tensorflow/tfjs-node or -gpu; it needs libtensorflow)' : '';
    throw new Error(`backend '${forced || order.join('/')}' could not start${hint}`);
  }
  await tf.ready();
  const line = `[engine] backend=${info.name} threads=${info.threads} (${info.source}, tfjs ${tf.version.tfjs})`;
  if (typeof options.log === 'function') options.log(line);
  else if (options.log !== false) console.log(line);
  return info;
}
