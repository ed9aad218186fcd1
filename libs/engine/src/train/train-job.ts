import type * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { z } from 'zod';
import { type BackendInfo, initBackend } from '../infer/backend';
import { type Callback, EarlyStopping, type Logs, type MonitorMode, TerminateOnNaN } from './callbacks';
import { cloneModel, EmaCallback, ModelEma } from './ema';
import { writeFileAtomic } from '../infer/files';
import { resolvePrecision } from '../kernels/precision';
import { RESUMABLE_KEYS, type JobConfig } from '../cli/job-schema';
import { MetricsLogger, ModelCheckpoint, ProgressBar } from './logging';
import { replicaJob, replicaRank, resolveWorkers, startReplicas } from './parallel';
import { ConfigError } from '../cli/args';
import { prepareRunDir, resolveRun } from '../cli/run-dir';
import { CosineDecay, ReduceLROnPlateau, StepDecay } from './schedules';
import { type FitResult, Trainer, type TrainTask } from './trainer';
import { runCli } from '../cli/run-cli';

/** What every piece of a job sees: the config, the run, and whether this thread is replica 0. */
export interface JobContext<C> {
  cfg: Readonly<C>;
  runDir: string;
  resume: boolean;
  /** Replica 0: the only one that prints, reads validation data and writes files. */
  main: boolean;
  backend: BackendInfo;
  /** Start from this model instead of building one (`<task>:prune` fine-tunes a given model this way). */
  initialModel?: tf.LayersModel;
}

/** A task's per-epoch validation: scores a model (the EMA weights when on) and returns `val_*` logs. */
export interface EpochValidator {
  validate(models: Record<string, tf.LayersModel>, epoch: number): Promise<Logs> | Logs;
}

/** What a task's `build` hands the job: the Trainer task and how the job should watch it. */
export interface BuiltTask<B> {
  task: TrainTask<B>;
  /** One line for the log: architecture, parameters. */
  summary: string;
  /** Metric for `checkpoints/best` and its direction; `saveBest: false` keeps only `last`. */
  best: { monitor: string; mode?: MonitorMode; saveBest?: boolean };
  /** Metric that early stopping (`--patience`) and the plateau schedule follow. */
  stopMonitor?: string;
  /** Models whose weights the EMA averages (`--ema`), e.g. ['model'] or ['generator']. */
  emaModels?: string[];
  /** Per-epoch validation; default none. */
  validator?: EpochValidator;
  /** Task-specific callbacks (e.g. sample grids); `allReplicas` says which run on every replica. */
  callbacks?: Callback[];
  /** Per-optimizer multipliers of the scheduled learning rate. */
  lrScales?: Record<string, number>;
}

/**
 * A training task, declared once: the job does the rest (run folder, backend, replicas, args.json,
 * callbacks, EMA, time budget, fit, and hands the result to `finish`).
 */
export interface TaskDefinition<S extends z.ZodObject, D, B, R> {
  /** The command, for messages and run files: 'classify:train'. */
  command: string;
  /** Default run root: 'runs/classify'. */
  root: string;
  /** Config schema: `jobSchema(defaults).extend({...})`. */
  schema: S;
  /** Keys a `--resume` may change besides epochs, time and threads. */
  mayChange?: string[];
  /** Loads and checks the data, before anything is written (bad data leaves nothing behind). */
  data(ctx: JobContext<z.infer<S>>): Promise<D>;
  /** One line describing the data, printed before training. */
  describeData?(data: D, ctx: JobContext<z.infer<S>>): string;
  /** Models, optimizers, step, validator. */
  build(data: D, ctx: JobContext<z.infer<S>>): Promise<BuiltTask<B>>;
  /** Replica 0, after training: save the model(s) (the EMA ones when on: `models`), write the report. */
  finish(args: { data: D; built: BuiltTask<B>; fit: FitResult; models: Record<string, tf.LayersModel> } & JobContext<z.infer<S>>): Promise<R>;
}

/** Schedules from the shared keys. */
function scheduleCallbacks(cfg: JobConfig, stepsPerEpoch: number, monitor: string): Callback[] {
  if (cfg.schedule === 'cosine') {
    return [
      new CosineDecay({
        baseLr: cfg.lr,
        totalSteps: cfg.epochs * stepsPerEpoch,
        warmupSteps: Math.round(cfg.warmupEpochs * stepsPerEpoch),
        minLr: cfg.lr * 0.01,
      }),
    ];
  }
  if (cfg.schedule === 'step') return [new StepDecay({ baseLr: cfg.lr, stepSize: cfg.stepSize, gamma: 0.1 })];
  if (cfg.schedule === 'plateau') return [new ReduceLROnPlateau({ monitor, factor: 0.5, patience: 2, minLr: cfg.lr * 1e-3 })];
  return [];
}

/** Trainable parameters of the largest model: the floats one gradient all-reduce carries. */
const reduceCapacity = (models: Record<string, tf.LayersModel>) => Math.max(...Object.values(models).map((m) => m.countParams())) + 64;

/**
 * Runs a task's training job from its command line. Every replica (`--workers`) runs this same function;
 * replica 0 resolves the run folder and passes it on, the others never touch it.
 *
 * @example
 * runCli((argv) => runTrainJob(classifyTask, argv).then(() => {}), { schema: classifyTask.schema, usage });
 */
export async function runTrainJob<S extends z.ZodObject, D, B, R>(
  def: TaskDefinition<S, D, B, R>,
  argv: string[],
  extras: { initialModel?: tf.LayersModel; callbacks?: (task: TrainTask<B>) => Callback[] } = {},
): Promise<R | null> {
  const main = replicaRank() === 0;
  const mayChange = [...RESUMABLE_KEYS, ...(def.mayChange ?? [])];
  const resolved = resolveRun(def.schema, argv, { root: def.root, writer: def.command, mayChange });
  const runDir = main ? resolved.runDir : String(replicaJob()?.runDir ?? resolved.runDir);
  const cfg = resolved.cfg as Readonly<z.infer<S>> & JobConfig;
  // Data-parallel replicas split the CPU's cores; on one GPU they would only share it: `--workers 0` means 1 there.
  const wantsGpu = cfg.device === 'gpu' || process.env.CV_BACKEND === 'webgpu' || process.env.CV_BACKEND === 'tensorflow';
  const workers = wantsGpu && cfg.workers === 0 ? 1 : resolveWorkers(cfg.workers);
  const backend = await initBackend({ log: main, replicas: workers, threads: cfg.threads, device: cfg.device });
  if (backend.name === 'webgpu' && workers > 1)
    throw new ConfigError(
      `--workers ${cfg.workers}: data-parallel replicas run on the CPU backends (they all-reduce in JavaScript); on WebGPU use --workers 1`,
    );
  const ctx: JobContext<z.infer<S>> = { cfg, runDir, resume: resolved.resume, main, backend, initialModel: extras.initialModel };
  const data = await def.data(ctx);
  const built = await def.build(data, ctx);
  const { task } = built;
  const replicas = await startReplicas(workers, reduceCapacity(task.models), { job: { runDir } });
  // Only replica 0 validates and saves, so only it keeps the average (the others would average for nothing).
  const emas = cfg.ema > 0 && main ? await makeEmas(task, built.emaModels ?? Object.keys(task.models).slice(0, 1), cfg) : [];
  // The convolutions' precision as run (`auto` resolved for this CPU and backend): args.json and the summary line say it.
  const precision = resolvePrecision(cfg.precision, backend.name);
  if (main) {
    if (!resolved.resume) prepareRunDir(runDir);
    const ran = { backend: backend.name, kernels: backend.kernels, convolutions: precision, ...(backend.adapter ? { adapter: backend.adapter } : {}) };
    writeFileAtomic(path.join(runDir, 'args.json'), JSON.stringify({ ...cfg, out: runDir, ...ran }, null, 2) + '\n');
    if (def.describeData) console.log(def.describeData(data, ctx));
    const plan = cfg.time > 0 ? `a ${cfg.time}-min budget (epochs planned after the first)` : `${cfg.epochs} epochs`;
    const conv = precision === 'bf16' ? ', bf16 convolutions (mixed precision)' : '';
    console.log(`${built.summary}; ${plan} × ${task.stepsPerEpoch} steps, ${workers} replica(s)${conv}, run: ${runDir}`);
  }
  const evalModels = () => ({ ...task.models, ...Object.fromEntries(emas.map((e) => [e.name, e.ema.model])) });
  const stopMonitor = built.stopMonitor ?? built.best.monitor;
  const callbacks: Callback[] = [
    new ProgressBar(),
    new TerminateOnNaN(),
    ...scheduleCallbacks(cfg, task.stepsPerEpoch, stopMonitor),
    ...(cfg.patience > 0 ? [new EarlyStopping({ monitor: stopMonitor, patience: cfg.patience, restoreBestWeights: true })] : []),
    ...emas.map((e) => new EmaCallback(e.ema, cfg.accumulate, `ModelEma_${e.name}`)),
    ...(built.callbacks ?? []),
    ...(extras.callbacks?.(task) ?? []),
    new MetricsLogger({ dir: runDir }),
    new ModelCheckpoint({ dir: path.join(runDir, 'checkpoints'), monitor: built.best.monitor, mode: built.best.mode, saveBest: built.best.saveBest }),
  ].filter((c) => main || c.allReplicas);
  const validator = built.validator;
  const trainer = new Trainer(task, {
    epochs: cfg.epochs,
    runDir,
    seed: cfg.seed,
    callbacks,
    resume: resolved.resume,
    lrScales: built.lrScales,
    replicas,
    valInterval: cfg.valInterval,
    timeBudget: cfg.time > 0 ? cfg.time * 60 : undefined,
    precision,
    validate: validator ? async (epoch) => validator.validate(evalModels(), epoch) : undefined,
  });
  const fit = await trainer.fit();
  if (!main) return null;
  await replicas.close();
  if (fit.failed) throw new Error(`training failed: ${fit.stopReason}; the last good checkpoint is ${path.join(runDir, 'checkpoints', 'last')}`);
  return def.finish({ ...ctx, data, built, fit, models: evalModels() });
}

/**
 * EMA twins of the named models: each is checkpointed as `<name>_ema` (a model of the task) and, for
 * validation and the saved model, takes the place of `<name>`.
 */
async function makeEmas(task: TrainTask<unknown>, names: string[], cfg: JobConfig): Promise<{ name: string; ema: ModelEma }[]> {
  const out: { name: string; ema: ModelEma }[] = [];
  for (const name of names) {
    const source = task.models[name];
    if (!source) throw new Error(`EMA of model '${name}': the task has ${Object.keys(task.models).join(', ')}`);
    const ema = new ModelEma(source, await cloneModel(source), { decay: cfg.ema, tau: cfg.emaWarmup });
    task.models[`${name}_ema`] = ema.model;
    out.push({ name, ema });
  }
  return out;
}

/**
 * A task's `train` command: `--help` from its schema, errors as one line, replicas aborted on failure.
 *
 * @example
 * trainCommand(classifyTask, 'usage: nx run classify:train -- [--config file.json] [--key=value ...]');
 */
export function trainCommand<S extends z.ZodObject, D, B, R>(def: TaskDefinition<S, D, B, R>, usage: string, setup?: () => void): void {
  runCli(
    async (argv) => {
      await runTrainJob(def, argv);
    },
    { schema: def.schema, usage },
    setup,
  );
}
