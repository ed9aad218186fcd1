/**
 * GPU benchmark: training and inference img/s of the bench networks (reference CNN at batch 64 and 256, the U-Net
 * and YOLO stages) on the backend the engine picks — WebGPU where a GPU adapter is (`CV_BACKEND=webgpu` forces it,
 * SwiftShader included) — beside the same networks in PyTorch on CUDA when `torch.cuda.is_available()`, with
 * ratios. Each training step reads its loss back and each prediction its output, on both sides (asynchronously
 * here: WebGPU has no synchronous read in Node).
 *
 *   npx nx run bench:gpu [-- --json] [--steps 20] [--only reference-cnn] [--python python3]
 *   npx nx run bench:gpu -- --bundle dist/gpu-bench      # one folder to run on a GPU machine without Node packages
 *
 * Each network row also says what one training step sends to the device after warm-up (kernel dispatches of the
 * engine's own kernels, tfjs ops, uploads and scalar uploads); a `per-op` row times 1,000 chained tfjs ops on
 * 1,024 floats (dispatch cost), 1,000 ops with a JavaScript number (scalar cost) and one read-back.
 *
 * `--tasks` (or `--only tasks`) adds one epoch of the default detector and U-Net on generated shapes
 * (`--task-images`, default 3,000), timed here and with `--device cpu`: spawned `detect:train` / `segment:train` jobs,
 * so it needs the repository (not the bundle, which has no image decoder).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { initBackend, parseArgs, resetWebgpuCounters, setWebgpuBackendLoader, webgpuCounters } from '@cv/engine';
import { BENCH_NETS, type BenchNet } from './architectures';
import { crossEntropy } from '@cv/tasks-classify';

const Schema = z.object({
  json: z.boolean().default(false).describe('print one JSON object per row'),
  steps: z.number().int().positive().default(20).describe('timed training steps per row (inference: 3× as many)'),
  warmup: z.number().int().min(0).default(3).describe('untimed warm-up steps'),
  only: z.string().optional().describe('run only this row (per-op, reference-cnn, unet-stage, yolo-stage, tasks)'),
  python: z.string().default('python3').describe('python with torch for the CUDA yardstick ("" = none)'),
  bundle: z.string().optional().describe('write a self-contained folder (this bench bundled, dawn.node, torch_bench.py, README) instead of running'),
  tasks: z
    .boolean()
    .default(false)
    .describe(
      'also time one epoch of the default detector and U-Net on generated shapes, on this backend and with --device cpu (spawns detect:train / segment:train: needs the repository)',
    ),
  taskImages: z.number().int().positive().default(3000).describe('--tasks: generated training images (validation: 1/15 as many, at least 16)'),
  taskImgsz: z.number().int().positive().optional().describe("--tasks: --imgsz of both jobs (default: the tasks' own)"),
});

/** The rows: network and batch. */
const ROWS: { net: string; batch: number }[] = [
  { net: 'reference-cnn', batch: 64 },
  { net: 'reference-cnn', batch: 256 },
  { net: 'unet-stage', batch: 8 },
  { net: 'unet-stage', batch: 32 },
  { net: 'yolo-stage', batch: 8 },
  { net: 'yolo-stage', batch: 32 },
];

/** img/s of `steps` Adam steps and of 3·steps predictions of `net` at `batch`, every result read back. */
interface StepCost {
  /** tfjs kernels run in one training step (each one dispatch or more). */
  opsPerStep: number;
  /** Dispatches of the engine's own WGSL kernels in one step. */
  engineDispatchesPerStep: number;
  uploadsPerStep: number;
  scalarUploadsPerStep: number;
}

/** Counts tfjs kernel calls while `f` runs (the engine's runKernelFunc is the one door every op goes through). */
async function countOps(f: () => Promise<void>): Promise<number> {
  const engine = tf.engine() as unknown as { runKernelFunc: (...a: unknown[]) => unknown };
  const original = engine.runKernelFunc;
  let ops = 0;
  engine.runKernelFunc = function (this: unknown, ...a: unknown[]) {
    ops++;
    return original.apply(this, a);
  };
  try {
    await f();
  } finally {
    engine.runKernelFunc = original;
  }
  return ops;
}

/** µs per op of `n` chained ops on 1,024 floats (one read-back at the end), per scalar op, and one read-back. */
async function perOp(n = 1000): Promise<{ dispatchUs: number; scalarOpUs: number; readbackMs: number }> {
  const x = tf.randomUniform([1024], -1, 1, 'float32', 3);
  const chain = async (op: (t: tf.Tensor) => tf.Tensor) => {
    let t = x.clone();
    for (let i = 0; i < 20; i++) {
      const next = op(t);
      t.dispose();
      t = next;
    }
    await t.data();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const next = op(t);
      t.dispose();
      t = next;
    }
    await t.data();
    t.dispose();
    return ((performance.now() - t0) * 1000) / n;
  };
  const dispatchUs = await chain((t) => tf.add(t, x));
  let k = 0;
  const scalarOpUs = await chain((t) => tf.mul(t, 1 + (k++ % 7) * 1e-3)); // a few distinct numbers, as a step has
  const y = tf.add(x, 1);
  await y.data();
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    const z = tf.add(y, i);
    await z.data();
    z.dispose();
  }
  const readbackMs = (performance.now() - t0) / 20;
  tf.dispose([x, y]);
  return { dispatchUs, scalarOpUs, readbackMs };
}

async function measure(net: BenchNet, batch: number, steps: number, warmup: number): Promise<{ train: number; infer: number; cost: StepCost }> {
  const model = net.build();
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, ...net.inputShape], 0, 1, 'float32', 1);
  const outShape = model.outputs[0].shape.slice(1) as number[];
  const y =
    net.loss === 'ce'
      ? tf.oneHot(tf.randomUniform([batch], 0, outShape[0], 'int32', 2), outShape[0])
      : tf.randomUniform([batch, ...outShape], 0, 1, 'float32', 2);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const train = async () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const out = model.apply(x, { training: true }) as tf.Tensor;
        return net.loss === 'ce' ? crossEntropy(y, out) : (tf.mean(tf.square(tf.sub(out, y))) as tf.Scalar);
      }, vars);
      optimizer.applyGradients(grads);
      return value;
    });
    await loss.data();
    loss.dispose();
  };
  const infer = async () => {
    const out = tf.tidy(() => model.predict(x) as tf.Tensor);
    await out.data();
    out.dispose();
  };
  for (let i = 0; i < Math.max(1, warmup); i++) await train();
  resetWebgpuCounters();
  const opsPerStep = await countOps(train);
  const cost: StepCost = {
    opsPerStep,
    engineDispatchesPerStep: webgpuCounters.dispatches,
    uploadsPerStep: webgpuCounters.uploads,
    scalarUploadsPerStep: webgpuCounters.scalarUploads,
  };
  let t0 = performance.now();
  for (let i = 0; i < steps; i++) await train();
  const trainRate = (batch * steps) / ((performance.now() - t0) / 1000);
  for (let i = 0; i < warmup; i++) await infer();
  t0 = performance.now();
  for (let i = 0; i < 3 * steps; i++) await infer();
  const inferRate = (batch * 3 * steps) / ((performance.now() - t0) / 1000);
  tf.dispose([x, y]);
  optimizer.dispose();
  model.dispose();
  return { train: trainRate, infer: inferRate, cost };
}

/** PyTorch CUDA on the same network and batch (torch_bench.py beside this file or in tools/bench), or why not. */
function torchCuda(python: string, script: string, name: string, batch: number, steps: number, warmup: number): { train: number; infer: number } | string {
  if (!python) return 'no python given';
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${python} has no torch`;
  if (!probe.stdout.trim().endsWith('True')) return `torch ${probe.stdout.trim().split(' ')[0]} sees no CUDA device`;
  const r = spawnSync(python, [script, name, '--device', 'cuda', '--batch', String(batch), '--steps', String(steps), '--warmup', String(warmup)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) return `torch_bench.py failed: ${r.stderr.trim().split('\n').pop()}`;
  const j = JSON.parse(r.stdout.trim().split('\n').pop()!) as { trainImgPerSec: number; inferImgPerSec: number };
  return { train: j.trainImgPerSec, infer: j.inferImgPerSec };
}

/** Writes the self-contained folder: the bench bundled by esbuild, the `webgpu` package's binding, torch_bench.py, a README. */
async function writeBundle(dir: string): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(here, '../../..');
  const { build } = await import('esbuild');
  fs.mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: path.join(dir, 'gpu-bench.mjs'),
    // Loaded at run time when present: the GPU binding ships beside the bundle; the CPU-only extras are not needed there.
    external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'esbuild', '*.node'],
    // Native packages the bench never calls (image decoding, ONNX Runtime) are imported statically by the engine:
    // in the bundle they are modules that say so if anything calls them.
    plugins: [
      {
        name: 'absent-native',
        setup(b) {
          b.onResolve({ filter: /^(sharp|onnxruntime-node)$/ }, (a) => ({ path: a.path, namespace: 'absent' }));
          b.onLoad({ filter: /.*/, namespace: 'absent' }, (a) => ({
            contents: `const absent = new Proxy(function () {}, { get: (_, k) => (k === '__esModule' ? false : k === 'then' ? undefined : absent), apply() { throw new Error('${a.path} is not in the GPU bench bundle'); }, construct() { throw new Error('${a.path} is not in the GPU bench bundle'); } }); export default absent; export const InferenceSession = absent, Tensor = absent, env = absent;`,
            loader: 'js',
          }));
        },
      },
    ],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  const pkg = path.join(root, 'node_modules/webgpu');
  const dest = path.join(dir, 'node_modules/webgpu');
  fs.mkdirSync(path.join(dest, 'dist/linux-x64'), { recursive: true });
  for (const f of fs.readdirSync(pkg)) if (f.endsWith('.js') || f === 'package.json') fs.copyFileSync(path.join(pkg, f), path.join(dest, f));
  fs.copyFileSync(path.join(pkg, 'dist/linux-x64/dawn.node'), path.join(dest, 'dist/linux-x64/dawn.node'));
  fs.copyFileSync(path.join(root, 'tools/bench/torch_bench.py'), path.join(dir, 'torch_bench.py'));
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    `# bench:gpu, bundled

Runs on Linux x64 with Node 20 or newer (carry its binary) and a Vulkan driver; no npm packages needed.

\`\`\`bash
# Debian packages the NVIDIA Vulkan ICD needs, unpacked without installing (apt-get download, then dpkg -x):
#   libvulkan1 libglvnd0 libglx0 libegl1
for d in *.deb; do dpkg -x "$d" sysroot; done
export LD_LIBRARY_PATH=$PWD/sysroot/usr/lib/x86_64-linux-gnu:$LD_LIBRARY_PATH
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json   # or /usr/share/vulkan/icd.d/nvidia_icd.json
CV_BACKEND=webgpu node gpu-bench.mjs --json --python python3
\`\`\`

Each line is one row: img/s training (Adam, loss read back every step) and inference here, beside PyTorch on CUDA
(\`torch_bench.py --device cuda\`) when \`python3 -c 'import torch'\` sees a CUDA device.
`,
  );
  const size = (p: string): number => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).reduce((s, f) => s + size(path.join(p, f)), 0) : fs.statSync(p).size);
  console.log(`bundle: ${dir} (${(size(dir) / 2 ** 20).toFixed(1)} MB): node gpu-bench.mjs --json (see README.md)`);
}

async function main(): Promise<void> {
  const { config: cfg } = parseArgs(
    Schema,
    process.argv.slice(2).filter((a) => a !== '--'),
  );
  if (cfg.bundle) return writeBundle(cfg.bundle);
  // A literal import, so that the bundle (--bundle) carries the webgpu backend.
  setWebgpuBackendLoader(() => import('@tensorflow/tfjs-backend-webgpu'));
  const info = await initBackend({ log: cfg.json ? (l) => console.error(l) : true });
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = [path.join(here, 'torch_bench.py'), path.resolve(here, '../torch_bench.py')].find((p) => fs.existsSync(p))!;
  const rows = ROWS.filter((r) => !cfg.only || r.net === cfg.only);
  if (!rows.length && cfg.only !== 'per-op' && cfg.only !== 'tasks')
    throw new Error(`--only: no network '${cfg.only}'; use one of per-op, tasks, ${[...new Set(ROWS.map((r) => r.net))].join(', ')}`);
  const adapter = info.adapter?.description || (info.adapter ? `${info.adapter.vendor} ${info.adapter.architecture}`.trim() : null);
  if (!cfg.only || cfg.only === 'per-op') {
    const o = await perOp();
    const row = { name: 'per-op', backend: info.name, adapter, ...o };
    if (cfg.json) console.log(JSON.stringify(row));
    else
      console.log(
        `per-op on ${info.name}${adapter ? ` (${adapter})` : ''}: ${o.dispatchUs.toFixed(1)} µs per op, ${o.scalarOpUs.toFixed(1)} µs per op with a JavaScript number, read-back ${o.readbackMs.toFixed(2)} ms`,
      );
  }
  for (const { net: name, batch } of rows) {
    const net = BENCH_NETS.find((n) => n.name === name)!;
    const ours = await measure(net, batch, cfg.steps, cfg.warmup);
    const torch = torchCuda(cfg.python, script, name, batch, cfg.steps, cfg.warmup);
    const row = {
      name,
      batch,
      backend: info.name,
      adapter,
      trainImgPerS: ours.train,
      inferImgPerS: ours.infer,
      ...ours.cost,
      ...(typeof torch === 'string'
        ? { torchTrainImgPerS: null, torchInferImgPerS: null, trainRatio: null, inferRatio: null, torch }
        : {
            torchTrainImgPerS: torch.train,
            torchInferImgPerS: torch.infer,
            trainRatio: ours.train / torch.train,
            inferRatio: ours.infer / torch.infer,
          }),
    };
    if (cfg.json) console.log(JSON.stringify(row));
    else {
      const vs =
        typeof torch === 'string'
          ? `(PyTorch CUDA: ${torch})`
          : `PyTorch CUDA ${torch.train.toFixed(0)} / ${torch.infer.toFixed(0)} → ${(ours.train / torch.train).toFixed(3)}× / ${(ours.infer / torch.infer).toFixed(3)}×`;
      console.log(
        `${name} batch ${batch} on ${info.name}${adapter ? ` (${adapter})` : ''}: train ${ours.train.toFixed(1)} img/s, infer ${ours.infer.toFixed(1)} img/s; ${vs}; a step: ${ours.cost.opsPerStep} ops, ${ours.cost.engineDispatchesPerStep} engine kernels, ${ours.cost.uploadsPerStep} uploads (${ours.cost.scalarUploadsPerStep} scalars)`,
      );
    }
  }
  if (cfg.tasks || cfg.only === 'tasks') await taskRows(cfg, info.name, adapter);
}

/** Seconds of a training job's first epoch (its metrics.jsonl) and its last logged loss, or why not. */
function trainEpoch(
  root: string,
  task: 'detect' | 'segment',
  data: { train: string; val: string },
  device: 'gpu' | 'cpu',
  imgsz: number | undefined,
  out: string,
) {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  const dataArgs =
    task === 'detect'
      ? [
          '--data',
          `${data.train}/annotations.json`,
          '--images',
          `${data.train}/images`,
          '--val-data',
          `${data.val}/annotations.json`,
          '--val-images',
          `${data.val}/images`,
        ]
      : ['--images', `${data.train}/images`, '--masks', `${data.train}/masks`, '--val-images', `${data.val}/images`, '--val-masks', `${data.val}/masks`];
  const args = [
    path.join(root, 'apps', task, 'src', 'train.ts'),
    ...dataArgs,
    '--epochs',
    '1',
    '--device',
    device,
    '--out',
    out,
    ...(imgsz ? ['--imgsz', String(imgsz)] : []),
  ];
  const env = { ...process.env };
  if (device === 'cpu') delete env.CV_BACKEND;
  const r = spawnSync(tsx, args, { cwd: root, env, encoding: 'utf8' });
  if (r.status !== 0) return `${task}:train --device ${device} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
  const first = JSON.parse(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').split('\n')[0]) as { time: number; loss: number };
  return { seconds: first.time, loss: first.loss };
}

/** One epoch of the default detector and U-Net on generated shapes, here and on the CPU path (`--tasks`). */
async function taskRows(cfg: z.infer<typeof Schema>, backend: string, adapter: string | null): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  if (!fs.existsSync(path.join(root, 'apps', 'detect', 'src', 'train.ts'))) {
    console.log(`--tasks: no repository around this bench (${root}): run it from a checkout (the bundle has no image decoder)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-gpu-tasks-'));
  try {
    const shapes = (out: string, n: number, seed: number) => {
      const r = spawnSync(
        path.join(root, 'node_modules', '.bin', 'tsx'),
        [path.join(root, 'libs/data/src/shapes-cli.ts'), '--out', out, '--n', String(n), '--seed', String(seed)],
        {
          encoding: 'utf8',
        },
      );
      if (r.status !== 0) throw new Error(`data:shapes failed: ${r.stderr.trim()}`);
    };
    const data = { train: path.join(dir, 'train'), val: path.join(dir, 'val') };
    shapes(data.train, cfg.taskImages, 1);
    shapes(data.val, Math.max(16, Math.round(cfg.taskImages / 15)), 2);
    for (const task of ['detect', 'segment'] as const) {
      const gpu = trainEpoch(root, task, data, 'gpu', cfg.taskImgsz, path.join(dir, `${task}-gpu`));
      const cpu = trainEpoch(root, task, data, 'cpu', cfg.taskImgsz, path.join(dir, `${task}-cpu`));
      const row = {
        name: `${task}-shapes-epoch`,
        images: cfg.taskImages,
        backend,
        adapter,
        ...(typeof gpu === 'string' ? { error: gpu } : { epochS: gpu.seconds, loss: gpu.loss }),
        ...(typeof cpu === 'string' ? { cpuError: cpu } : { cpuEpochS: cpu.seconds, cpuLoss: cpu.loss }),
        ...(typeof gpu !== 'string' && typeof cpu !== 'string' ? { speedupVsCpu: cpu.seconds / gpu.seconds } : {}),
      };
      if (cfg.json) console.log(JSON.stringify(row));
      else
        console.log(
          typeof gpu === 'string' || typeof cpu === 'string'
            ? `${row.name}: ${typeof gpu === 'string' ? gpu : ''} ${typeof cpu === 'string' ? cpu : ''}`.trim()
            : `${row.name} (${cfg.taskImages} images, epoch with its validation): ${gpu.seconds.toFixed(1)} s on ${backend} vs ${cpu.seconds.toFixed(1)} s --device cpu → ${(cpu.seconds / gpu.seconds).toFixed(2)}×; loss ${gpu.loss.toFixed(4)} vs ${cpu.loss.toFixed(4)}`,
        );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
});
