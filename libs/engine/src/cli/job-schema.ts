import os from 'node:os';
import { z } from 'zod';

/** Per-task defaults of the shared keys (a detector trains longer and slower than a digit classifier). */
export interface JobDefaults {
  epochs: number;
  batchSize: number;
  lr: number;
  schedule?: 'none' | 'step' | 'cosine' | 'plateau';
  workers?: number;
  /** Training convolutions: f32 unless the task's recipe gains from bf16 (measured: docs/results/tta.md). */
  precision?: 'f32' | 'bf16' | 'auto';
  root: string;
}

/**
 * The keys every training job has, with a task's defaults: extend it with the task's own keys.
 *
 * @example
 * export const DetectTrainSchema = jobSchema({ epochs: 50, batchSize: 16, lr: 1e-3, root: 'runs/detect' }).extend({ imageSize: ... });
 */
export function jobSchema(d: JobDefaults) {
  return z.object({
    epochs: z.number().int().positive().default(d.epochs).describe('epochs to train (with --resume: the new total)'),
    batchSize: z.number().int().positive().default(d.batchSize).describe('images per step'),
    lr: z.number().positive().default(d.lr).describe('peak learning rate'),
    schedule: z
      .enum(['none', 'step', 'cosine', 'plateau'])
      .default(d.schedule ?? 'cosine')
      .describe('learning-rate schedule'),
    warmupEpochs: z
      .number()
      .min(0)
      .default(d.schedule === 'none' ? 0 : 0.2)
      .describe('linear warm-up (cosine schedule), in epochs'),
    stepSize: z.number().int().positive().default(3).describe('epochs between ×0.1 decays (step schedule)'),
    patience: z.number().int().min(0).default(0).describe("early stopping patience in epochs, on the task's validation loss (0 = off)"),
    weightDecay: z.number().min(0).default(0).describe('decoupled weight decay (AdamW-style) coefficient'),
    clipNorm: z.number().min(0).default(0).describe('clip gradients to this global L2 norm (0 = off)'),
    accumulate: z.number().int().positive().default(1).describe('accumulate gradients over this many batches per update'),
    ema: z
      .number()
      .min(0)
      .max(0.99999)
      .default(0)
      .describe('decay of an exponential moving average of the weights, used to validate and saved (0 = off; e.g. 0.999)'),
    emaWarmup: z.number().min(0).default(2000).describe('EMA warm-up: decay·(1 − exp(−updates / this)) (0 = none)'),
    valInterval: z.number().int().positive().default(1).describe('validate every N epochs (and after the last)'),
    time: z
      .number()
      .min(0)
      .default(0)
      .describe('wall-clock budget in minutes: plan the epochs that fit after the first one, then stop cleanly (0 = off; overrides --epochs)'),
    workers: z
      .number()
      .int()
      .min(0)
      .default(d.workers ?? 1)
      .describe('data-parallel replicas (0 = one per core, at most 4); the cores are divided among them; batch statistics are per replica'),
    threads: z.number().int().min(0).default(0).describe('compute threads per replica for the oneDNN kernels (0 = cores / replicas; env CV_THREADS)'),
    precision: z
      .enum(['f32', 'bf16', 'auto'])
      .default(d.precision ?? 'f32')
      .describe(
        'training convolutions: f32, or bf16 operands with f32 sums (mixed precision; AMX / AVX512-BF16 CPUs with the native kernels); auto: bf16 where the CPU runs it natively',
      ),
    device: z
      .enum(['auto', 'cpu', 'gpu'])
      .default('auto')
      .describe(
        'auto: the first backend that starts; cpu: no GPU backend; gpu: a GPU backend (WebGPU on a GPU adapter, or tfjs-node-gpu) or an error saying why not',
      ),
    seed: z.number().int().min(0).default(0).describe('seed of init, shuffling, augmentation and dropout'),
    out: z.string().optional().describe(`run directory (default ${d.root}/exp, exp2, ...)`),
    resume: z.string().optional().describe('continue the run in this directory from its last checkpoint'),
  });
}

/** The shared keys' values, as every job reads them. */
export type JobConfig = z.infer<ReturnType<typeof jobSchema>>;

/** Keys a `--resume` may change: the length and the resources of the run, never what it learns. */
export const RESUMABLE_KEYS = ['epochs', 'time', 'threads', 'dataWorkers', 'device'];

/** The `--runtime` / `--threads` options every task's val and predict take. */
export const runtimeKeys = {
  runtime: z.enum(['tfjs', 'onnx']).optional().describe('tfjs, or ONNX Runtime (default: ONNX Runtime for a folder holding only model.onnx)'),
  threads: z.number().int().positive().optional().describe('ONNX Runtime intra-op threads (default: all cores)'),
  device: z.enum(['auto', 'cpu', 'gpu']).default('auto').describe('tfjs runtime: auto, cpu (no GPU backend) or gpu (WebGPU / tfjs-node-gpu, else an error)'),
  precision: z
    .enum(['auto', 'f32', 'bf16'])
    .default('f32')
    .describe(
      'convolutions in f32, or bf16 (inputs and filters rounded to bfloat16, f32 sums; AMX / AVX512-BF16 CPUs); auto: bf16 where the CPU runs it natively',
    ),
  graph: z
    .boolean()
    .default(true)
    .describe('tfjs on the native kernels: run the model as one native call per batch where its layers allow (--no-graph: layer by layer)'),
};

/**
 * The keys that send a val or predict run to worker processes through a Redis queue (`@cv/distributed`; the apps
 * pass its runner to `runMode`). Without `--queue` the run is local.
 */
export const queueKeys = {
  queue: z.string().optional().describe('redis://[:password@]host:port (or rediss://): run as shards on worker processes (npx nx run worker:start)'),
  queueName: z.string().default('cv').describe('with --queue: the queue namespace, so several users of one Redis do not collide'),
  shardSize: z.number().int().positive().default(1000).describe('with --queue: inputs per shard (a multiple of --batch keeps batches as in a local run)'),
};
export type QueueConfig = { queue?: string; queueName: string; shardSize: number };

/** The data-loader key of the tasks whose loader can run in worker threads (`SampleLoader`: detect, segment). */
export const loaderKeys = {
  dataWorkers: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      'worker threads that read, augment and collate batches while the step runs (0: the main thread; the batches are the same); default 1 with more than 2 cores, 0 with 2 or fewer (there the thread takes a core from the kernels and a step gets no faster)',
    ),
};

/** `--data-workers` as given, else 1 on machines with more than 2 cores, else 0. */
export const dataWorkers = (given: number | undefined): number => given ?? (os.availableParallelism() > 2 ? 1 : 0);
