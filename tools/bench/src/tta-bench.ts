/**
 * Time to accuracy of a task's default recipe, end to end as a user runs it: the `shapes` sets are written
 * with fixed seeds (3,000 training images, seed 1; 200 validation images, seed 2), `<task>:train` runs with
 * `--time` (validating every epoch on the validation set, never trained on), and this prints the training
 * seconds at which the validation metric first reached each threshold, the metric at the PyTorch anchor's
 * wall-clock, and the trained model's predict speed (letterbox + inference + NMS / argmax, from decoded
 * pixels, batch 32). `--model` skips training and times that model's inference only.
 *
 *   npx nx run bench:tta -- --task detect [--time 9] [--json]
 *   npx nx run bench:tta -- --task segment --time 6.3
 *   npx nx run bench:tta -- --task detect --model models/detect/shapes --json
 *   npx nx run bench:tta -- --task detect --model models/detect/shapes --profile     # + µs per image by kernel
 *   npx nx run bench:tta -- --task detect --hard --time 20                           # the hard variant of the sets
 *
 * With `--torch`, the same run also (1) trains the PyTorch anchor (tools/bench/torch_tta_train.py: a tiny YOLO or
 * U-Net of PyTorch's own) on the same files for the same budget, its per-epoch validation predictions scored here
 * by the suite's evaluation (coco-ts-api / the segment validator's mIoU), after ours, never beside it; and (2)
 * rebuilds our trained model (topology and weights) in PyTorch (tools/bench/torch_tta.py) and times the same
 * predict path. PyTorch must use OpenBLAS (`apt-get install -y libopenblas0-pthread`), else the run is refused
 * unless `--allow-reference-blas`. With `--model`, only (2).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeImage, listImages, writeShapes } from '@cv/data';
import { ConfigError, initBackend, loadTaskPredictor, parseArgs, resolvePrecision, runCli, type DecodedImage, type ImagePredictor } from '@cv/engine';
import '@cv/tasks-detect/predict';
import '@cv/tasks-segment/predict';
import { z } from 'zod';
import { instrumentKernels } from './instrument';
import { torchInfer, torchTrain, type Row, type TorchAnswer, type TorchOptions } from './tta-torch';

const Schema = z.object({
  task: z.enum(['detect', 'segment']).describe('the task whose default recipe is timed'),
  time: z.number().positive().optional().describe('training budget in minutes (default: half the anchor, detect 9, segment 6.3)'),
  model: z.string().optional().describe('skip training: time this model folder’s inference only'),
  work: z.string().default('tmp/tta').describe('folder for the generated sets and the runs'),
  batch: z.number().int().positive().default(32).describe('inference batch'),
  torch: z.boolean().default(false).describe('also time the PyTorch yardstick (tools/bench/torch_tta.py) in this run'),
  allowReferenceBlas: z.boolean().default(false).describe("with --torch: accept a PyTorch on Debian's reference BLAS"),
  json: z.boolean().default(false).describe('print one JSON object per line'),
  hard: z
    .boolean()
    .default(false)
    .describe('the hard shapes variant (data:shapes --hard: 6 classes, 160–320 px, textures, occlusion, crowds, empty images) instead of shapes'),
  fuse: z.boolean().default(true).describe('predict through the inference graph (BatchNorm folded, activations fused); --no-fuse: the saved graph'),
  graph: z.boolean().default(true).describe('run the inference graph as one native call per batch where it can (--no-graph: layer by layer)'),
  train: z.string().default('').describe('extra options for <task>:train, as one string (e.g. "--batch-size 32")'),
  profile: z.boolean().default(false).describe('after the timings, one more predict pass with every kernel clocked: µs per image by kernel (stderr)'),
  precision: z
    .enum(['f32', 'bf16', 'auto'])
    .default('auto')
    .describe('predict speed is measured in f32 and, where the CPU runs it natively (auto) or when asked (bf16), with bf16 convolutions too'),
});
type Config = z.infer<typeof Schema>;

/** The PyTorch anchors of the issue this bench answers (same machine, 2 cores, OpenBLAS). */
const ANCHORS = {
  detect: { metric: 'val_map', name: 'mAP50-95', thresholds: [0.9, 0.95, 0.962], seconds: 1068, score: 0.962, inferImgPerS: 383, minutes: 9 },
  segment: { metric: 'val_miou', name: 'mIoU', thresholds: [0.9, 0.931, 0.95], seconds: 755, score: 0.931, inferImgPerS: 23, minutes: 6.3 },
} as const;

const root = process.cwd();
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

/** The shapes set at `dir` (written once; a folder from another generator or size is refused). */
async function shapesSet(dir: string, n: number, seed: number, hard: boolean): Promise<string> {
  const ann = path.join(dir, 'annotations.json');
  const want = `shapes${hard ? ' (hard)' : ''}: ${n} images, seed ${seed}`;
  if (fs.existsSync(ann)) {
    const got = (JSON.parse(fs.readFileSync(ann, 'utf8')) as { info?: { description?: string } }).info?.description;
    if (got !== want) throw new ConfigError(`${dir} holds '${got}', not '${want}'; remove it or choose another --work`);
    return dir;
  }
  process.stderr.write(`writing ${dir} (${want})\n`);
  await writeShapes(dir, { n, seed, hard });
  return dir;
}

function readMetrics(file: string, metric: string): Row[] {
  const [head, ...lines] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = head.split(',');
  const [e, t, m] = ['epoch', 'time', metric].map((c) => cols.indexOf(c));
  if (m < 0) throw new Error(`${file} has no '${metric}' column`);
  return lines.map((l) => l.split(',')).map((v) => ({ epoch: +v[e], time: +v[t], score: +v[m] }));
}

/** Trains the default recipe; the run folder. Progress goes to stderr. */
async function train(cfg: Config, train: string, val: string): Promise<string> {
  const out = path.join(cfg.work, 'runs', `${cfg.task}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const minutes = cfg.time ?? ANCHORS[cfg.task].minutes;
  const data =
    cfg.task === 'detect'
      ? ['--data', path.join(train, 'annotations.json'), '--val-data', path.join(val, 'annotations.json')]
      : [
          '--images',
          path.join(train, 'images'),
          '--masks',
          path.join(train, 'masks'),
          '--val-images',
          path.join(val, 'images'),
          '--val-masks',
          path.join(val, 'masks'),
        ];
  // The Node flag of the train targets (project.json): a larger young generation, fewer scavenges per step.
  const args = [
    '--max-semi-space-size=64',
    `apps/${cfg.task}/src/train.ts`,
    ...data,
    '--time',
    String(minutes),
    '--out',
    out,
    ...cfg.train.split(/\s+/).filter(Boolean),
  ];
  process.stderr.write(`npx nx run ${cfg.task}:train -- ${args.slice(2).join(' ')}\n`);
  await new Promise<void>((resolve, reject) => {
    const p = spawn(tsx, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, FORCE_COLOR: '0' } });
    p.stdout.on('data', (d: Buffer) => process.stderr.write(d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cfg.task}:train exited with code ${code}`))));
  });
  return out;
}

/**
 * One predict pass over `images` with every kernel of the backend clocked (after the speed measurements: the
 * wrapping stays): µs per image by kernel, and what the pass spent outside kernels (JavaScript: letterbox set-up,
 * tfjs's per-op work, NMS), printed to stderr.
 */
async function profilePredict(modelDir: string, cfg: Config, images: DecodedImage[], precision: 'f32' | 'bf16'): Promise<void> {
  const predictor = await loadTaskPredictor<ImagePredictor<unknown>>(modelDir, cfg.task, `bench:tta --task ${cfg.task}`, {
    fuse: cfg.fuse,
    graph: cfg.graph,
    precision,
  });
  const stages = { preprocess: 0, inference: 0, postprocess: 0 };
  const run = () => {
    for (let i = 0; i < images.length; i += cfg.batch) {
      const batch = images.slice(i, i + cfg.batch);
      predictor.predict(batch);
      for (const k of Object.keys(stages) as (keyof typeof stages)[]) stages[k] += predictor.timing[k] * batch.length;
    }
  };
  run();
  Object.keys(stages).forEach((k) => (stages[k as keyof typeof stages] = 0));
  run();
  run();
  const n0 = images.length * 2;
  console.error(
    `predict stages (${precision}, batch ${cfg.batch}, ${(predictor.model as { graph?: string }).graph ?? 'layers'} graph): ` +
      Object.entries(stages)
        .map(([k, ms]) => `${k} ${((ms * 1000) / n0).toFixed(0)} µs`)
        .join(', ') +
      ' per image (two passes after a warm-up)',
  );
  const times = new Map<string, { ms: number; calls: number }>();
  instrumentKernels(tf.getBackend(), (name, ms) => {
    const e = times.get(name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    times.set(name, e);
  });
  const t0 = performance.now();
  run();
  const wall = performance.now() - t0;
  predictor.dispose();
  const n = images.length;
  const inKernels = [...times.values()].reduce((s, e) => s + e.ms, 0);
  const us = (ms: number) => ((ms * 1000) / n).toFixed(0).padStart(6);
  console.error(
    `predict profile (${precision}, batch ${cfg.batch}, ${n} images): ${us(wall)} µs per image, ${us(inKernels)} in kernels, ${us(wall - inKernels)} outside`,
  );
  for (const [name, e] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20))
    console.error(`  ${name.padEnd(24)} ${us(e.ms)} µs/img  ${String(Math.round(e.calls / Math.ceil(n / cfg.batch))).padStart(5)} calls/batch`);
}

/** Images per second through the Predictor (letterbox + inference + post-processing) at batch `batch`. */
async function inferSpeed(predictor: ImagePredictor<unknown>, images: DecodedImage[], batch: number): Promise<number> {
  const run = () => {
    for (let i = 0; i < images.length; i += batch) predictor.predict(images.slice(i, i + batch));
  };
  run(); // warm-up: kernels, caches
  const passes = 3;
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) run();
  return (images.length * passes) / ((performance.now() - t0) / 1000);
}

/** Seconds to each threshold, and the score at each of `seconds`, from a run's validation rows. */
function summarize(rows: Row[], thresholds: readonly number[], seconds: number[]) {
  const secondsTo = Object.fromEntries(thresholds.map((t) => [t.toFixed(3).replace(/0$/, ''), rows.find((r) => r.score >= t)?.time ?? null]));
  // The score at s seconds: the last validation at or before s, when the run lasted that long.
  const at = (s: number) => (rows.length && rows[rows.length - 1].time >= s ? (rows.filter((r) => r.time <= s).pop()?.score ?? null) : null);
  const last = rows[rows.length - 1];
  const scoreAt: Record<string, number | null> = Object.fromEntries(seconds.map((s) => [String(s), at(s)]));
  if (last) scoreAt[last.time.toFixed(0)] = last.score;
  return { secondsTo, scoreAt, at, last };
}

function torchOptions(cfg: Config): TorchOptions {
  return { ...cfg, minutes: cfg.time ?? ANCHORS[cfg.task].minutes };
}

async function main(argv: string[]): Promise<void> {
  const { config: cfg } = parseArgs(Schema, argv);
  const anchor = ANCHORS[cfg.task];
  if (cfg.hard && cfg.torch && cfg.task !== 'detect')
    throw new ConfigError('--hard with --torch: the PyTorch U-Net anchor takes one image size (the hard set mixes 160–320 px); drop one');
  const set = cfg.hard ? 'hard' : 'shapes';
  const trainDir = await shapesSet(path.join(cfg.work, `${set}-train`), 3000, 1, cfg.hard);
  const valDir = await shapesSet(path.join(cfg.work, `${set}-val`), 200, 2, cfg.hard);
  const runDir = cfg.model ? null : await train(cfg, trainDir, valDir);
  const modelDir = cfg.model ?? path.join(runDir!, 'model');
  // The PyTorch anchor trains after ours (never beside it: two cores), before this process starts its own engine.
  const anchorRun = cfg.torch && runDir ? await torchTrain(torchOptions(cfg), trainDir, valDir) : null;

  await initBackend({ log: !cfg.json });
  const predictor = await loadTaskPredictor<ImagePredictor<unknown>>(modelDir, cfg.task, `bench:tta --task ${cfg.task}`, { fuse: cfg.fuse, graph: cfg.graph });
  const images = await Promise.all(listImages(path.join(valDir, 'images')).map((f) => decodeImage(f)));
  const inferImgPerS = await inferSpeed(predictor, images, cfg.batch);
  // The same Predictor path with bf16 convolutions (AMX / AVX512-BF16 cores), where they run.
  const half = cfg.fuse && cfg.precision !== 'f32' && resolvePrecision(cfg.precision, tf.getBackend()) === 'bf16';
  let bf16InferImgPerS: number | null = null;
  if (half) {
    const p16 = await loadTaskPredictor<ImagePredictor<unknown>>(modelDir, cfg.task, `bench:tta --task ${cfg.task}`, { graph: cfg.graph, precision: 'bf16' });
    bf16InferImgPerS = await inferSpeed(p16, images, cfg.batch);
    p16.dispose();
  }
  let torch: TorchAnswer | null = null;
  // The same model rebuilt in PyTorch is timed on one batch shape: the hard set (mixed sizes) gets the anchor only.
  if (cfg.torch && !cfg.hard) {
    // The raw output of the first batch, for the PyTorch rebuild to check itself against.
    const check = path.join(cfg.work, `raw-${process.pid}.f32`);
    const model = (predictor as unknown as { model: tf.LayersModel }).model;
    const x = tf.tensor4d(Float32Array.from(images.slice(0, cfg.batch).flatMap((im) => Array.from(im.data, (v) => v / 255))), [
      Math.min(cfg.batch, images.length),
      images[0].height,
      images[0].width,
      3,
    ]);
    const y = model.predict(x) as tf.Tensor;
    fs.writeFileSync(check, Buffer.from((y.dataSync() as Float32Array).buffer));
    tf.dispose([x, y]);
    try {
      torch = torchInfer(torchOptions(cfg), valDir, modelDir, check);
    } finally {
      fs.rmSync(check, { force: true });
    }
  }

  if (cfg.profile) await profilePredict(modelDir, cfg, images, half ? 'bf16' : 'f32');

  const rows = runDir ? readMetrics(path.join(runDir, 'metrics.csv'), anchor.metric) : [];
  const { secondsTo, scoreAt, at, last } = summarize(rows, anchor.thresholds, [anchor.seconds / 2, anchor.seconds]);
  const anchorSummary = anchorRun ? summarize(anchorRun.rows, anchor.thresholds, [anchor.seconds / 2, anchor.seconds]) : null;
  const result = {
    task: cfg.task,
    data: cfg.hard ? 'hard' : 'shapes',
    metric: anchor.name,
    run: runDir,
    model: modelDir,
    epochs: last?.epoch ?? null,
    trainSeconds: last?.time ?? null,
    final: last?.score ?? null,
    secondsTo,
    scoreAt,
    inferImgPerS,
    bf16InferImgPerS,
    graph: (predictor.model as { graph?: string }).graph ?? 'layers',
    inferBatch: cfg.batch,
    torchInferImgPerS: torch?.inferImgPerS ?? null,
    torchBlas: torch?.blas ?? null,
    torchMaxAbsDiff: torch?.maxAbsDiff ?? null,
    torchAnchor: anchorRun
      ? {
          run: anchorRun.run,
          epochs: anchorSummary!.last?.epoch ?? null,
          trainSeconds: anchorSummary!.last?.time ?? null,
          final: anchorSummary!.last?.score ?? null,
          secondsTo: anchorSummary!.secondsTo,
          scoreAt: anchorSummary!.scoreAt,
          inferImgPerS: anchorRun.answer.inferImgPerS,
          params: anchorRun.answer.params,
          gflops: anchorRun.answer.gflops,
          torch: anchorRun.answer.torch,
          blas: anchorRun.answer.blas,
        }
      : null,
    anchor: { score: anchor.score, seconds: anchor.seconds, inferImgPerS: anchor.inferImgPerS },
    backend: tf.getBackend(),
    date: new Date().toISOString(),
  };
  if (cfg.json) {
    console.log(JSON.stringify(result));
    return;
  }
  const s = (v: number | null) => (v === null ? '—' : `${v.toFixed(0)} s`);
  console.log(`\n${cfg.task}: ${anchor.name} on 200 validation images (${cfg.hard ? 'hard shapes' : 'shapes'} seed 2)${runDir ? `, run ${runDir}` : ''}`);
  if (runDir) {
    console.log(`| threshold | ${anchor.thresholds.map((t) => t.toFixed(3)).join(' | ')} |`);
    console.log(`| --- | ${anchor.thresholds.map(() => '---:').join(' | ')} |`);
    console.log(`| seconds to reach | ${Object.values(secondsTo).map(s).join(' | ')} |`);
    console.log(
      `final ${anchor.name} ${last.score.toFixed(4)} after ${last.epoch} epochs (${last.time.toFixed(0)} s); at the anchor's ${anchor.seconds} s: ${at(anchor.seconds)?.toFixed(4) ?? '—'} (anchor ${anchor.score})`,
    );
    if (anchorRun && anchorSummary) {
      const a = anchorRun.answer;
      console.log(`| PyTorch anchor, seconds to reach | ${Object.values(anchorSummary.secondsTo).map(s).join(' | ')} |`);
      console.log(
        `PyTorch anchor (${(a.params / 1e6).toFixed(2)} M parameters, ${a.gflops.toFixed(2)} GFLOP/img, torch ${a.torch}, ${a.blas}): final ${anchor.name} ` +
          `${anchorSummary.last?.score.toFixed(4) ?? '—'} after ${anchorSummary.last?.epoch ?? 0} epochs (${anchorSummary.last?.time.toFixed(0) ?? '—'} s); predict ${a.inferImgPerS.toFixed(0)} img/s`,
      );
    }
  }
  console.log(
    `predict (letterbox + inference + post-processing, batch ${cfg.batch}): ${inferImgPerS.toFixed(0)} img/s` +
      (bf16InferImgPerS ? ` (bf16 convolutions: ${bf16InferImgPerS.toFixed(0)} img/s)` : '') +
      (torch
        ? `; PyTorch ${torch.inferImgPerS.toFixed(0)} img/s, same model (${torch.blas}; outputs within ${torch.maxAbsDiff?.toExponential(1)})`
        : `; the anchor's published ${anchor.inferImgPerS} img/s`),
  );
}

runCli(main, { schema: Schema, usage: 'npx nx run bench:tta -- --task detect|segment [--time M] [--model DIR] [--torch] [--profile] [--json]' });
