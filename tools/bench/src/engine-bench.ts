/**
 * Engine benchmark: training and inference throughput, ms per step and peak RSS for the reference CNN
 * (batch 64, 28×28×1), a U-Net stage (128×128×3, batch 8) and a YOLO-style stage (160×160×3, batch 8),
 * all with Adam, for each kernel set on the wasm backend — `wasm` (composed kernels; one thread, as
 * wasm runs in Node) and `onednn` (the native addon, when built) at 1 thread and at all cores. When
 * `python3 -c 'import torch'` works (Debian: `apt-get install python3-torch`; optional, a yardstick
 * only), each row is followed by the same network in PyTorch at that row's thread count, and the ratios
 * are ours / PyTorch's.
 *
 *   npx nx run bench:engine [-- --json] [--steps 30] [--only reference-cnn] [--kernels onednn] [--threads 1,2] [--roofline]
 *
 * `--roofline` measures instead the arithmetic rate (GFLOP/s) of the kernels a CNN step is made of — a
 * large matmul and the reference CNN's second convolution — in both frameworks at the same thread count:
 * the ceiling a training step can reach on this CPU in each.
 */
import * as tf from '@tensorflow/tfjs';
import { availableCores, initBackend, loadOneDnnAddon, parseArgs, type BackendInfo } from '@cv/engine';
import { spawnSync } from 'node:child_process';
import { BENCH_NETS, type BenchNet } from './architectures';
import { benchSteps } from './bench-steps';
import { z } from 'zod';

const Schema = z.object({
  json: z.boolean().default(false).describe('print one JSON object per row'),
  steps: z.number().int().positive().optional().describe('timed training steps per row (default: 30 for reference-cnn, fewer for the big rows)'),
  warmup: z.number().int().min(0).default(3).describe('untimed warm-up steps'),
  only: z.string().optional().describe('run only this network (reference-cnn, unet-stage, yolo-stage)'),
  kernels: z.enum(['wasm', 'onednn']).optional().describe('run only this kernel set (default: wasm, and onednn when built)'),
  threads: z.string().optional().describe('comma-separated oneDNN thread counts (default: 1 and all cores)'),
  torch: z.boolean().default(true).describe('compare with PyTorch when it is installed'),
  roofline: z.boolean().default(false).describe('measure GFLOP/s of matmul and conv kernels instead of the networks'),
});

/** One benchmark row: a network on one kernel set at one thread count, beside PyTorch at that count. */
interface Row {
  name: string;
  backend: string;
  kernels: string;
  threads: number;
  trainImgPerSec: number;
  inferImgPerSec: number;
  msPerStep: number;
  peakRssMb: number;
  torchTrainImgPerSec: number | null;
  torchInferImgPerSec: number | null;
  trainRatio: number | null;
  inferRatio: number | null;
}

/** A kernel set at a thread count. */
interface KernelConfig {
  kernels: 'wasm' | 'onednn';
  threads: number;
}

/** A Python that imports torch: CV_TORCH_PYTHON, else python3 on PATH, else Debian's /usr/bin/python3. */
function torchPython(): string | null {
  const candidates = [process.env.CV_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  return candidates.find((py) => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}

let python = 'python3';

/** One run of torch_bench.py: its JSON line (img/s of a network row, or GFLOP/s per kernel for 'roofline'). */
function torchRow<T = { trainImgPerSec: number; inferImgPerSec: number }>(name: string, threads: number, steps: number, cfg: z.infer<typeof Schema>): T {
  const r = spawnSync(python, ['tools/bench/torch_bench.py', name, '--threads', String(threads), '--steps', String(steps), '--warmup', String(cfg.warmup)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`PyTorch bench of ${name} failed: ${r.stderr.trim().split('\n').pop()}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

/**
 * Waits for a result and frees it. (Not `tf.tidy(() => t.dataSync())`: tidy walks whatever its function
 * returns looking for tensors, index by index for a typed array — 0.7 s for a 0.8 M-element output.)
 */
function syncAndDispose(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function benchModel(net: BenchNet, steps: number, cfg: z.infer<typeof Schema>, backend: BackendInfo) {
  const batch = net.batch;
  const bench = benchSteps(net);
  const step = () => {
    bench.train();
    sampleRss();
  };
  for (let i = 0; i < cfg.warmup; i++) step();
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const msPerStep = (performance.now() - t0) / steps;
  for (let i = 0; i < cfg.warmup; i++) bench.infer();
  const inferSteps = steps * 3;
  t0 = performance.now();
  for (let i = 0; i < inferSteps; i++) {
    bench.infer();
    sampleRss();
  }
  const msPerInfer = (performance.now() - t0) / inferSteps;
  bench.dispose();
  return {
    name: net.name,
    backend: backend.name,
    kernels: backend.kernels,
    threads: backend.threads,
    trainImgPerSec: (1000 * batch) / msPerStep,
    inferImgPerSec: (1000 * batch) / msPerInfer,
    msPerStep,
    peakRssMb: peakRss / 2 ** 20,
  };
}

const ratio = (a: number, b: number | null | undefined) => (b ? a / b : null);

/** Best-of-3 GFLOP/s of `fn` (which must finish its work before returning), each sample ≥ minSeconds / 3. */
function gflops(fn: () => void, flops: number, minSeconds = 1): number {
  fn();
  let best = 0;
  for (let r = 0; r < 3; r++) {
    let n = 0;
    const t0 = performance.now();
    let dt = 0;
    do {
      fn();
      n++;
      dt = (performance.now() - t0) / 1000;
    } while (dt < minSeconds / 3);
    best = Math.max(best, (flops * n) / dt / 1e9);
  }
  return best;
}

/** GFLOP/s of the kernels a CNN step is made of (same shapes as torch_bench.py's roofline()). */
function rooflineKernels(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of [256, 1024]) {
    const [a, b] = [tf.randomUniform([n, n], 0, 1, 'float32', 1), tf.randomUniform([n, n], 0, 1, 'float32', 2)];
    out[`matmul-${n}`] = gflops(() => syncAndDispose(tf.matMul(a, b)), 2 * n ** 3);
    tf.dispose([a, b]);
  }
  const x = tf.randomUniform([64, 14, 14, 32], 0, 1, 'float32', 3) as tf.Tensor4D;
  const w = tf.randomUniform([3, 3, 32, 64], 0, 1, 'float32', 4) as tf.Tensor4D;
  out['conv3x3-14x14x32-64'] = gflops(() => syncAndDispose(tf.conv2d(x, w, 1, 'same')), 2 * 64 * 14 * 14 * 64 * 32 * 9);
  tf.dispose([x, w]);
  return out;
}

/** The kernel sets × thread counts to measure: wasm at 1 thread, oneDNN (when built) at 1 and all cores. */
function kernelConfigs(cfg: z.infer<typeof Schema>, cores: number): KernelConfig[] {
  const threads = cfg.threads ? cfg.threads.split(',').map((t) => Number(t.trim())) : [...new Set([1, cores])];
  if (threads.some((t) => !Number.isInteger(t) || t < 1)) throw new Error(`--threads '${cfg.threads}' must be positive integers, e.g. 1,2`);
  const onednn = 'addon' in loadOneDnnAddon();
  if (cfg.kernels === 'onednn' && !onednn)
    throw new Error('--kernels onednn: the oneDNN addon is not built (apt-get install -y g++ libdnnl-dev && node libs/engine/native/build.mjs)');
  const out: KernelConfig[] = [];
  if (cfg.kernels !== 'onednn') out.push({ kernels: 'wasm', threads: 1 }); // wasm computes on one thread in Node
  if (onednn && cfg.kernels !== 'wasm') out.push(...threads.map((t) => ({ kernels: 'onednn' as const, threads: t })));
  return out;
}

/** Starts the wasm backend with a kernel set at a thread count (the banner goes to stderr with --json). */
async function useKernels(k: KernelConfig, cfg: z.infer<typeof Schema>): Promise<BackendInfo> {
  return initBackend({ backend: 'wasm', kernels: k.kernels, threads: k.threads, log: cfg.json ? (l) => console.error(l) : true });
}

function printRow(row: Row, batch: number, torch: boolean): void {
  const t = (v: number | null) => (v === null ? '-' : v.toFixed(0));
  const q = (v: number | null) => (v === null ? '-' : v.toFixed(2));
  console.log(
    `${row.name} [${row.kernels}, ${row.threads} thread(s)]: train ${row.trainImgPerSec.toFixed(0)} img/s (${row.msPerStep.toFixed(1)} ms/step, ` +
      `batch ${batch}), infer ${row.inferImgPerSec.toFixed(0)} img/s, peak RSS ${row.peakRssMb.toFixed(0)} MB`,
  );
  if (torch) {
    console.log(
      `  PyTorch ${row.threads} thread(s): train ${t(row.torchTrainImgPerSec)}, infer ${t(row.torchInferImgPerSec)} → ` +
        `ratio train ${q(row.trainRatio)}, infer ${q(row.inferRatio)}`,
    );
  }
}

async function main(): Promise<void> {
  const { config } = parseArgs(
    Schema,
    process.argv.slice(2).filter((a) => a !== '--'),
  );
  const found = config.torch ? torchPython() : null;
  const torch = found !== null;
  if (found) python = found;
  const cores = availableCores();
  const configs = kernelConfigs(config, cores);
  if (!torch && !config.json) console.log('PyTorch not found (optional: apt-get install python3-torch); torch columns are empty');
  if (config.roofline) {
    for (const k of configs) {
      const backend = await useKernels(k, config);
      const ours = rooflineKernels();
      const theirs = torch ? torchRow<Record<string, number>>('roofline', k.threads, 1, config) : null;
      for (const [name, value] of Object.entries(ours)) {
        const row = {
          name,
          backend: backend.name,
          kernels: backend.kernels,
          threads: backend.threads,
          gflops: value,
          torchGflops: theirs?.[name] ?? null,
          ratio: ratio(value, theirs?.[name]),
        };
        if (config.json) console.log(JSON.stringify(row));
        else
          console.log(
            `${name}: ${value.toFixed(1)} GFLOP/s [${row.kernels}, ${row.threads} thread(s)]${theirs ? `; PyTorch ${row.torchGflops!.toFixed(1)} → ratio ${row.ratio!.toFixed(2)}` : ''}`,
          );
      }
    }
    return;
  }
  const nets = BENCH_NETS.filter((n) => !config.only || n.name === config.only);
  if (nets.length === 0) throw new Error(`--only '${config.only}' is not a row; rows: ${BENCH_NETS.map((n) => n.name).join(', ')}`);
  for (const net of nets) {
    for (const k of configs) {
      const backend = await useKernels(k, config);
      peakRss = 0;
      const steps = config.steps ?? net.steps;
      const ours = benchModel(net, steps, config, backend);
      const same = torch ? torchRow(net.name, backend.threads, steps, config) : null; // alternating: ours, then torch
      const row: Row = {
        ...ours,
        torchTrainImgPerSec: same?.trainImgPerSec ?? null,
        torchInferImgPerSec: same?.inferImgPerSec ?? null,
        trainRatio: ratio(ours.trainImgPerSec, same?.trainImgPerSec),
        inferRatio: ratio(ours.inferImgPerSec, same?.inferImgPerSec),
      };
      if (config.json) console.log(JSON.stringify(row));
      else printRow(row, net.batch, torch);
    }
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
});
