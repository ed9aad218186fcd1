import type * as tf from '@tensorflow/tfjs';
import { OptimizationStep, type ParamGroup } from './optim';
import type { StepContext, TrainTask } from './types';
import type { Logs } from './callbacks';

/** Anything that gives an epoch's batches from a seed (a SampleLoader, a DataLoader). */
export interface BatchSource<B> {
  readonly length: number;
  batches(seed: number): AsyncIterable<B>;
}

export interface LoaderTaskOptions<B> {
  /** Batches without the heavy augmentation, for the last `closeLast` planned epochs (Ultralytics' close_mosaic). */
  plainLoader?: BatchSource<B>;
  closeLast?: number;
  clipNorm?: number;
  accumulate?: number;
  weightDecay?: number;
  /** Several optimizers (e.g. a fine-tuning plan's 'phase1' / 'head' / 'backbone'); default one under 'optimizer'. */
  optimizers?: Record<string, tf.Optimizer>;
  /** Which optimizer trains which weights in an epoch (called as each epoch starts). */
  groupsForEpoch?: (epoch: number) => ParamGroup[];
}

/**
 * A one-model, one-optimizer Trainer task over a batch source: the scaffolding every dense task shares
 * (the models and optimizers the Trainer checkpoints, steps per epoch, the augmentation switch-off near the
 * planned end, one `OptimizationStep`). A task adds its loss in `trainStep` (with `this.step.run`), `batchSize`
 * and, for replicas, `shard`.
 *
 * @example
 * class MyTask extends LoaderTask<SampleBatch> {
 *   trainStep(batch, ctx) { const loss = this.step.run(() => myLoss(this.model, batch), this.trainableVars(), ctx); ... }
 *   batchSize(batch) { return batch.shape[0]; }
 * }
 */
export abstract class LoaderTask<B> implements TrainTask<B> {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  protected readonly step: OptimizationStep;
  private groups: ParamGroup[];

  constructor(
    readonly model: tf.LayersModel,
    optimizer: tf.Optimizer,
    readonly loader: BatchSource<B>,
    readonly loaderOptions: LoaderTaskOptions<B> = {},
  ) {
    this.models = { model };
    this.optimizers = loaderOptions.optimizers ?? { optimizer };
    const { clipNorm, accumulate, weightDecay } = loaderOptions;
    this.groups = this.groupsFor(0);
    this.step = new OptimizationStep({ optimizers: this.optimizers, groups: () => this.groups, clipNorm, accumulate, weightDecay });
  }

  get stepsPerEpoch(): number {
    return this.loader.length;
  }

  private groupsFor(epoch: number): ParamGroup[] {
    return this.loaderOptions.groupsForEpoch?.(epoch) ?? [{ optimizer: Object.keys(this.optimizers)[0], owns: () => true }];
  }

  batches(epoch: number, seed: number, epochs: number): AsyncIterable<B> {
    this.groups = this.groupsFor(epoch);
    const { plainLoader, closeLast = 0 } = this.loaderOptions;
    return (plainLoader && epoch >= epochs - closeLast ? plainLoader : this.loader).batches(seed);
  }

  /** The model's trainable weights as variables (what `step.run` differentiates). */
  protected trainableVars(): tf.Variable[] {
    return this.model.trainableWeights.map((w) => w.read() as tf.Variable);
  }

  abstract trainStep(batch: B, ctx: StepContext): Logs | Promise<Logs>;
  abstract batchSize(batch: B): number;
}
