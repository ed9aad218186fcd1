import { z } from 'zod';
import { ConfigError, parseArgs } from '../cli/args';
import { type QueueConfig, queueKeys, runtimeKeys } from '../cli/job-schema';
import { type Device, initBackend } from '../infer/backend';
import { writeFileAtomic } from '../infer/files';
import { loadTaskPredictor, type Predictor } from '../infer/predictor';
import { StageTimer } from './stage-timer';

/** The keys every task's `val` takes besides its own. */
export const valKeys = {
  ...runtimeKeys,
  model: z.string().optional().describe("model folder (a train run's model/): tfjs, quantized tfjs or ONNX"),
  json: z.string().optional().describe('also write the report JSON to this file'),
  out: z.string().optional().describe('folder for report.json, report.md and plots/'),
  ...queueKeys,
};

type ValConfig = { model?: string; json?: string; out?: string; runtime?: 'tfjs' | 'onnx'; threads?: number; device?: Device } & QueueConfig;

/** What a task's val hooks see: the config, the loaded Predictor, where the report goes, and the stage timer. */
export interface ValContext<C, P extends Predictor> {
  cfg: Readonly<C & ValConfig>;
  predictor: P;
  /** Where the report is written (`--out`, or the task's default such as a run folder); undefined: print only. */
  outDir?: string;
  /** `tfjs` backend name (webgpu with its adapter), or `onnxruntime`. */
  runtime: string;
  timer: StageTimer;
  /** The model folder loaded. */
  modelDir: string;
}

/**
 * A task's `val` mode, declared as hooks; `runValJob` does the rest (options, backend, loading and checking the
 * model, timing, `--json`, the report folder). The same evaluation function serves the per-epoch validator in
 * training and this mode, so the numbers agree (the Ultralytics BaseValidator pattern).
 */
export interface ValDefinition<S extends z.ZodObject, P extends Predictor, D, R> {
  /** 'detect:val', for messages. */
  command: string;
  /** The `task` the model's metadata must name (its Predictor's). */
  task: string;
  /** The task's own keys; `valKeys` are added. */
  schema: S;
  /** The model folder to load, from `--model` and the task's keys (e.g. `<run>/model`); default `--model`. */
  modelDir?(cfg: z.infer<S> & ValConfig): string | undefined;
  /** The report folder when `--out` is not given (e.g. the run folder, whose report is rewritten). */
  outDir?(cfg: z.infer<S> & ValConfig): string | undefined;
  /** Reads and checks the truth (against the model's classes too) before anything is scored or written. */
  data(ctx: ValContext<z.infer<S>, P>): Promise<D> | D;
  /** Scores the model on the data: the evaluation the training validator runs. */
  evaluate(data: D, ctx: ValContext<z.infer<S>, P>): Promise<R> | R;
  /** Lines printed after scoring (the headline figures). */
  lines(result: R, data: D, ctx: ValContext<z.infer<S>, P>): string[];
  /** The machine-readable report (`--json`, report.json). */
  json(result: R, data: D, ctx: ValContext<z.infer<S>, P>): unknown;
  /**
   * Evaluation in shards on queue workers (`--queue`): how many items the data holds, one shard's partial result
   * (JSON-safe) for some of them, and the merge of every shard's part into the result — equal to `evaluate`'s.
   */
  shards?: {
    count(data: D): number;
    evaluate(data: D, items: number[], ctx: ValContext<z.infer<S>, P>): Promise<unknown> | unknown;
    merge(parts: unknown[], data: D, ctx: ValContext<z.infer<S>, P>): Promise<R> | R;
  };
  /** Writes report.json, report.md and plots into `dir`; returns a line naming what it wrote. */
  report?(dir: string, result: R, data: D, ctx: ValContext<z.infer<S>, P>): Promise<string> | string;
}

/** Options of a val definition's command line: its own keys plus the shared ones. */
export const valSchema = <S extends z.ZodObject>(def: { schema: S }) => def.schema.extend(valKeys);

/**
 * Runs a task's `val` mode from its command line.
 *
 * @example
 * runCli((argv) => runValJob(detectVal, argv).then(() => {}), { schema: valSchema(detectVal), usage });
 */
export async function runValJob<S extends z.ZodObject, P extends Predictor, D, R>(def: ValDefinition<S, P, D, R>, argv: string[]): Promise<R> {
  const { ctx, data } = await openVal(def, argv);
  if (ctx.cfg.queue) throw new ConfigError(`${def.command}: --queue runs through the distributed runner; start it with the task's app (apps/<task>)`);
  const result = await ctx.timer.time('evaluate', () => def.evaluate(data, ctx));
  await finishVal(def, ctx, data, result);
  return result;
}

/** Parses a val command line, opens its model and reads its data: what the hooks need (a queue worker too). */
export async function openVal<S extends z.ZodObject, P extends Predictor, D, R>(
  def: ValDefinition<S, P, D, R>,
  argv: string[],
): Promise<{ ctx: ValContext<z.infer<S>, P>; data: D }> {
  const { config } = parseArgs(valSchema(def), argv);
  const cfg = config as z.infer<S> & ValConfig;
  const timer = new StageTimer();
  const modelDir = def.modelDir ? def.modelDir(cfg) : cfg.model;
  if (!modelDir) throw new ConfigError(`${def.command} needs --model <dir>`);
  const backend = await initBackend({ log: (line) => console.error(line), device: cfg.device });
  const predictor = await timer.time('load', () => loadTaskPredictor<P>(modelDir, def.task, def.command, cfg));
  const precision = (predictor.model as { precision?: string }).precision;
  const runtime =
    (predictor.model.runtime ?? (backend.adapter ? `webgpu on ${backend.adapter.description || backend.adapter.architecture}` : backend.name)) +
    (precision === 'bf16' ? ' (bf16 convolutions)' : '') +
    ((predictor.model as { graph?: string }).graph === 'native' ? ', native graph' : '');
  const ctx: ValContext<z.infer<S>, P> = { cfg, predictor, outDir: cfg.out ?? def.outDir?.(cfg), runtime, timer, modelDir };
  const data = await timer.time('data', () => def.data(ctx));
  return { ctx, data };
}

/** Prints the result's lines, writes `--json` and the report folder, then releases the model. */
export async function finishVal<S extends z.ZodObject, P extends Predictor, D, R>(
  def: ValDefinition<S, P, D, R>,
  ctx: ValContext<z.infer<S>, P>,
  data: D,
  result: R,
): Promise<void> {
  const { cfg, timer } = ctx;
  def.lines(result, data, ctx).forEach((line) => console.log(line));
  if (cfg.json) writeFileAtomic(cfg.json, JSON.stringify(valJson(def, ctx, data, result), null, 2) + '\n');
  if (ctx.outDir && def.report) console.log(await timer.time('report', () => def.report!(ctx.outDir!, result, data, ctx)));
  if (cfg.json) console.log(`wrote ${cfg.json}`);
  console.error(`[${def.command}] ${timer.summary()}`);
  ctx.predictor.dispose();
}

/** The `--json` object of a val run: the task's JSON, the model folder and the runtime. */
export const valJson = <S extends z.ZodObject, P extends Predictor, D, R>(
  def: ValDefinition<S, P, D, R>,
  ctx: ValContext<z.infer<S>, P>,
  data: D,
  result: R,
) => ({
  ...(def.json(result, data, ctx) as object),
  modelDir: ctx.modelDir,
  runtime: ctx.runtime,
});
