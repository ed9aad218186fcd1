import cliProgress from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, parseArgs } from '../cli/args';
import { type QueueConfig, queueKeys, runtimeKeys } from '../cli/job-schema';
import { type Device, initBackend } from '../infer/backend';
import { writeFileAtomic } from '../infer/files';
import { loadTaskPredictor, type Predictor } from '../infer/predictor';
import { StageTimer } from './stage-timer';

/** The keys every task's `predict` takes besides its own. */
export const predictKeys = {
  ...runtimeKeys,
  // Predictions are served fast by default: bf16 convolutions where the CPU runs them natively (the detector's
  // mAP50-95 within 0.0003 of f32); val keeps f32, so its metrics are the model's exact ones.
  precision: runtimeKeys.precision
    .removeDefault()
    .default('auto')
    .describe('convolutions in f32, or bf16 (inputs and filters rounded to bfloat16, f32 sums); auto (default): bf16 where the CPU runs it natively, else f32'),
  model: z.string().optional().describe("model folder (a train run's model/): tfjs, quantized tfjs or ONNX"),
  images: z.string().optional().describe('a folder of inputs or one input file (inputs may also follow the options)'),
  out: z.string().optional().describe('folder for the answers: predictions.json and the task’s files (drawn images, masks...)'),
  json: z.boolean().default(false).describe('print the answers as a JSON array instead of one line each'),
  batch: z.number().int().positive().default(16).describe('inputs per forward pass (the next batch is read while this one runs)'),
  ...queueKeys,
};

type PredictConfig = {
  model?: string;
  images?: string;
  out?: string;
  json: boolean;
  batch: number;
  runtime?: 'tfjs' | 'onnx';
  threads?: number;
  device?: Device;
} & QueueConfig;

/** What a task's predict hooks see. */
export interface PredictContext<C, P extends Predictor> {
  cfg: Readonly<C & PredictConfig>;
  predictor: P;
  timer: StageTimer;
}

/** One answer row: what `--json` prints and predictions.json holds (naming its input: `image`, `source`...). */
export type PredictRow = Record<string, unknown>;

/**
 * A task's `predict` mode, declared as hooks; `runPredictJob` does the rest: options, backend, the model and its
 * task check, the inputs in batches with the next batch read while this one runs, a progress bar, timing per
 * stage, and the output folder (written beside its final place, then swapped in: a failure leaves nothing
 * half-written).
 */
export interface PredictDefinition<S extends z.ZodObject, P extends Predictor, I, O> {
  /** 'detect:predict', for messages. */
  command: string;
  /** The `task` the model's metadata must name. */
  task: string;
  /** The task's own keys; `predictKeys` are added. */
  schema: S;
  /** Answers are files (drawn images, masks): `--out` is required. */
  needsOut?: boolean;
  /** The model folder to load from `--model` (e.g. a run's generator/); default `--model` itself. */
  modelDir?(model: string): string;
  /** What one input is, for messages: 'image', 'CSV file'. */
  noun: string;
  /** A path given as input → the input files (a folder's images, sorted); default: the path itself, which must exist. */
  list?(source: string): string[];
  /** The inputs when they are not files (e.g. a generator's samples): overrides `list`. */
  sources?(ctx: PredictContext<z.infer<S>, P>): string[];
  /** Reads one input (decode an image, parse a CSV). */
  read(source: string, ctx: PredictContext<z.infer<S>, P>): Promise<I> | I;
  /** Answers a batch of inputs, one output per input. */
  predict(inputs: I[], ctx: PredictContext<z.infer<S>, P>): O[] | Promise<O[]>;
  /** The rows of one input's answer (one per image; a CSV file gives one per sequence). */
  rows(source: string, output: O, input: I, ctx: PredictContext<z.infer<S>, P>): PredictRow[];
  /** A row as one printed line (without `--json`). */
  line(row: PredictRow): string;
  /** Writes one input's files into the output folder (created with `dirs` inside). */
  write?(dir: string, source: string, input: I, output: O, ctx: PredictContext<z.infer<S>, P>): Promise<void> | void;
  /** Sub-folders of the output folder. */
  dirs?: string[];
  /** After every input: extra files (e.g. COCO results.json), given every row. */
  finish?(dir: string, rows: PredictRow[], ctx: PredictContext<z.infer<S>, P>): Promise<void> | void;
  /** What the answers add up to, for the closing line: '312 detections'. */
  summary?(rows: PredictRow[]): string;
  /** Batch size when the task has its own reason (a generator draws all its samples at once). */
  batchSize?(ctx: PredictContext<z.infer<S>, P>): number;
}

export const predictSchema = <S extends z.ZodObject>(def: { schema: S }) => def.schema.extend(predictKeys);

export interface PredictSummary {
  inputs: number;
  rows: PredictRow[];
  seconds: number;
  stages: Record<string, number>;
}

/** Parses a predict command line and opens its model: the context every predict hook sees (the caller disposes the predictor). */
export async function openPredict<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  argv: string[],
  timer = new StageTimer(),
): Promise<{ ctx: PredictContext<z.infer<S>, P>; positionals: string[] }> {
  const { config, positionals } = parseArgs(predictSchema(def), argv, { allowPositionals: true });
  const cfg = config as z.infer<S> & PredictConfig;
  if (!cfg.model) throw new ConfigError(`${def.command} needs --model <dir>`);
  if (def.needsOut && !cfg.out) throw new ConfigError(`${def.command} needs --out <dir> for its answers`);
  await initBackend({ log: (line) => console.error(line), device: cfg.device });
  const modelDir = def.modelDir ? def.modelDir(cfg.model) : cfg.model;
  const predictor = await timer.time('load', () => loadTaskPredictor<P>(modelDir, def.task, def.command, cfg));
  return { ctx: { cfg, predictor, timer }, positionals };
}

/** The inputs of a predict command: the task's own (`sources`), else every path given, listed (a folder's images). */
export function predictSources<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  ctx: PredictContext<z.infer<S>, P>,
  positionals: string[],
): string[] {
  const given = [...positionals, ...(ctx.cfg.images ? [ctx.cfg.images] : [])];
  const exists = (s: string) => {
    if (!fs.existsSync(s)) throw new ConfigError(`'${s}' does not exist; pass ${def.noun} paths or a folder of them`);
    return [s];
  };
  const sources = def.sources ? def.sources(ctx) : given.flatMap((s) => (def.list ?? exists)(s));
  if (!sources.length) throw new ConfigError(`${def.command} needs at least one ${def.noun}: --images <dir or file>, or paths after the options`);
  return sources;
}

/**
 * Answers `sources` in batches — the next batch read while this one is predicted, a batch's files written together
 * into `dir` (when given) while the next is predicted — and returns the rows. The loop of `predict`, and of a
 * queue worker's shard (which passes `onReadError`: an unreadable input is reported and the rest goes on).
 */
export async function predictInto<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  ctx: PredictContext<z.infer<S>, P>,
  sources: string[],
  dir: string | null,
  onReadError?: (source: string, error: Error) => void,
): Promise<PredictRow[]> {
  const rows: PredictRow[] = [];
  if (dir) for (const d of ['', ...(def.dirs ?? [])]) fs.mkdirSync(path.join(dir, d), { recursive: true });
  let writing: Promise<unknown> = Promise.resolve(); // at most one batch of writes in flight
  await forEachBatch(
    def,
    ctx,
    sources,
    def.batchSize?.(ctx) ?? ctx.cfg.batch,
    async (batch, inputs, outputs) => {
      batch.forEach((source, i) => rows.push(...def.rows(source, outputs[i], inputs[i], ctx)));
      if (!dir || !def.write) return;
      await writing;
      writing = ctx.timer.time('write', () => Promise.all(batch.map((source, i) => def.write!(dir, source, inputs[i], outputs[i], ctx))));
      writing.catch(() => {}); // awaited below or on the next batch
    },
    onReadError,
  );
  await writing;
  return rows;
}

/**
 * Runs a task's `predict` mode from its command line.
 *
 * @example
 * runCli((argv) => runPredictJob(detectPredict, argv).then(() => {}), { schema: predictSchema(detectPredict), usage });
 */
export async function runPredictJob<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  argv: string[],
): Promise<PredictSummary> {
  const started = performance.now();
  const { ctx, positionals } = await openPredict(def, argv);
  const { cfg, predictor, timer } = ctx;
  let sources: string[] = [];
  let rows: PredictRow[] = [];
  const tmp = cfg.out ? `${cfg.out.replace(/\/+$/, '')}.tmp-${process.pid}` : null;
  try {
    if (cfg.queue) throw new ConfigError(`${def.command}: --queue runs through the distributed runner; start it with the task's app (apps/<task>)`);
    sources = predictSources(def, ctx, positionals);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    rows = await predictInto(def, ctx, sources, tmp);
    if (tmp) {
      await timer.time('write', () => finishPredictFolder(def, ctx, tmp, rows));
      fs.rmSync(cfg.out!, { recursive: true, force: true });
      fs.mkdirSync(path.dirname(path.resolve(cfg.out!)), { recursive: true });
      fs.renameSync(tmp, cfg.out!);
    }
  } catch (e) {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    predictor.dispose();
  }
  const seconds = (performance.now() - started) / 1000;
  if (cfg.json) console.log(JSON.stringify(rows, null, 2));
  else if (!cfg.out) rows.forEach((r) => console.log(def.line(r)));
  // stdout holds the answers (JSON or lines) when they are not files.
  (cfg.out && !cfg.json ? console.log : console.error)(predictSummaryLine(def, cfg, sources.length, rows, `${timer.summary()}; `, seconds));
  return { inputs: sources.length, rows, seconds, stages: timer.toJSON() };
}

/** The set-level files of an answers folder: predictions.json (every row, in input order) and the task's own. */
export async function finishPredictFolder<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  ctx: PredictContext<z.infer<S>, P>,
  dir: string,
  rows: PredictRow[],
): Promise<void> {
  writeFileAtomic(path.join(dir, 'predictions.json'), JSON.stringify(rows, null, 1) + '\n');
  await def.finish?.(dir, rows, ctx);
}

/** The closing line of a predict run: inputs, the task's summary, where the answers went, stages, inputs/s. */
export function predictSummaryLine<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  cfg: { out?: string },
  inputs: number,
  rows: PredictRow[],
  stages: string,
  seconds: number,
): string {
  const what = [`${inputs} ${def.noun}${inputs === 1 ? '' : 's'}`, ...(def.summary ? [def.summary(rows)] : [])].join(', ');
  return `${what}${cfg.out ? ` → ${cfg.out}/ (predictions.json)` : ''}; ${stages}${(inputs / Math.max(seconds, 1e-9)).toFixed(1)} ${def.noun}s/s end to end`;
}

/** Batches of sources: the next batch is read (decoding runs off the main thread) while this one is predicted. */
async function forEachBatch<S extends z.ZodObject, P extends Predictor, I, O>(
  def: PredictDefinition<S, P, I, O>,
  ctx: PredictContext<z.infer<S>, P>,
  sources: string[],
  size: number,
  each: (batch: string[], inputs: I[], outputs: O[]) => Promise<void>,
  onReadError?: (source: string, error: Error) => void,
): Promise<void> {
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: `${def.command} |{bar}| {value}/{total} ${def.noun}s | ETA {eta_formatted}`, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(sources.length, 0);
  // Without `onReadError` an unreadable input fails the run; with it, the input is reported and left out.
  const readOne = async (s: string): Promise<{ s: string; input: I } | null> => {
    try {
      return { s, input: await def.read(s, ctx) };
    } catch (e) {
      if (!onReadError) throw e;
      onReadError(s, e as Error);
      return null;
    }
  };
  const readBatch = (start: number) =>
    ctx.timer.time('read', async () => (await Promise.all(sources.slice(start, start + size).map(readOne))).filter((r) => r !== null));
  try {
    let next = readBatch(0);
    // The read stage overlaps the predict stage: their sum may exceed the wall-clock.
    for (let start = 0; start < sources.length; start += size) {
      const read = await next;
      if (start + size < sources.length) {
        next = readBatch(start + size);
        next.catch(() => {}); // awaited on the next turn; a failure while this batch runs must not go unhandled
      }
      const inputs = read.map((r) => r.input);
      const outputs = inputs.length ? await ctx.timer.time('predict', () => def.predict(inputs, ctx)) : [];
      await each(
        read.map((r) => r.s),
        inputs,
        outputs,
      );
      bar?.increment(Math.min(size, sources.length - start));
    }
  } finally {
    bar?.stop();
  }
}
