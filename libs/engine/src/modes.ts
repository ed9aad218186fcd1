import type { z } from 'zod';
import { runCli } from './cli/run-cli';
import { ExportSchema, runExport } from './deploy/export';
import { PruneSchema, runPruneJob } from './deploy/prune-job';
import type { Predictor } from './infer/predictor';
import { type PredictDefinition, predictSchema, runPredictJob } from './train/predict-job';
import { runTrainJob, type TaskDefinition } from './train/train-job';
import { runValJob, type ValDefinition, valSchema } from './train/val-job';

/** The modes every task has; `export` and `prune` are the engine's own and need only the task's layers and training job. */
export const MODES = ['train', 'val', 'predict', 'export', 'prune'] as const;
export type Mode = (typeof MODES)[number];

// A task's definitions differ in their data, batch and result types: `any` here, precise types in the task.
/* eslint-disable-next-line @typescript-eslint/no-explicit-any */
type Any = any;

/**
 * A task, as the apps see it: its name, the custom layers its models need, and a definition per mode. The
 * Ultralytics task × mode table in one object; an app file is `runMode(detect, 'val')`.
 */
export interface TaskModes {
  /** 'detect' — the apps' name and the commands' prefix. */
  name: string;
  /** Registers the custom layer classes its models use (before any model loads). */
  setup?: () => void;
  train: TaskDefinition<Any, Any, Any, Any>;
  val: ValDefinition<Any, Any, Any, Any>;
  predict: PredictDefinition<Any, Any, Any, Any>;
  /** Channel or magnitude pruning + fine-tune with `train` (every task whose model has prunable convolutions). */
  prune?: boolean;
  /** One usage line per mode (without "usage: "), for `--help`. */
  usage?: Partial<Record<Mode, string>>;
}

/**
 * Runners of val and predict over worker processes (`@cv/distributed`'s `queueModes`), used when the command line
 * has `--queue`; without them `--queue` is refused with one line.
 */
export interface RemoteModes {
  val?(task: TaskModes, argv: string[]): Promise<void>;
  predict?(task: TaskModes, argv: string[]): Promise<void>;
}

const defaultUsage = (task: string, mode: Mode) =>
  ({
    train: `nx run ${task}:train -- [--config file.json] [--key=value ...]`,
    val: `nx run ${task}:val -- --model <dir> [--json out.json] [--out <dir>]`,
    predict: `nx run ${task}:predict -- --model <dir> --images <dir|file> [--out <dir>] [--json]`,
    export: `nx run ${task}:export -- --model <dir> --out <dir> [--format tfjs|onnx] [--quantize float16|uint8]`,
    prune: `nx run ${task}:prune -- --model <dir> --sparsity 0.5 [--method channel|magnitude] --out <dir>`,
  })[mode];

/**
 * Runs one mode of a task as a command-line program: `--help` from its schema, errors as one line, exit code 1.
 *
 * @example
 * // apps/detect/src/val.ts
 * import { runMode } from '@cv/engine';
 * import { detect } from '@cv/tasks-detect';
 * runMode(detect, 'val');
 */
export function runMode(task: TaskModes, mode: Mode, remote: RemoteModes = {}): void {
  const usage = `usage: ${task.usage?.[mode] ?? defaultUsage(task.name, mode)}`;
  const main = async (argv: string[]) => {
    const queued = argv.some((a) => a === '--queue' || a.startsWith('--queue='));
    if (queued && (mode === 'val' || mode === 'predict') && remote[mode]) await remote[mode]!(task, argv);
    else if (mode === 'train') await runTrainJob(task.train, argv);
    else if (mode === 'val') await runValJob(task.val as ValDefinition<z.ZodObject, Predictor, unknown, unknown>, argv);
    else if (mode === 'predict') await runPredictJob(task.predict as PredictDefinition<z.ZodObject, Predictor, unknown, unknown>, argv);
    else if (mode === 'export') await runExport(withModelDir(argv, task.predict.modelDir), `${task.name}:export`);
    else if (task.prune) await runPruneJob(task.train, argv);
    else throw new Error(`${task.name} has no prune mode`);
  };
  runCli(main, { schema: schemaOf(task, mode), usage }, task.setup);
}

function schemaOf(task: TaskModes, mode: Mode): z.ZodObject {
  if (mode === 'train') return task.train.schema;
  if (mode === 'val') return valSchema(task.val);
  if (mode === 'predict') return predictSchema(task.predict);
  return mode === 'export' ? ExportSchema : PruneSchema;
}

/** `--model` mapped to the folder the task's predict loads (dcgan: a run folder's generator/), for export. */
function withModelDir(argv: string[], modelDir?: (model: string) => string): string[] {
  if (!modelDir) return argv;
  return argv.flatMap((a, i) => {
    if (a.startsWith('--model=')) return [`--model=${modelDir(a.slice(8))}`];
    if (argv[i - 1] === '--model' && !a.startsWith('--')) return [modelDir(a)];
    return [a];
  });
}
