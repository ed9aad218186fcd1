/**
 * The training loop's shared shapes: a step's context, the task a Trainer drives, and the view of the Trainer that
 * callbacks get. Kept apart from trainer.ts and callbacks.ts so neither imports the other.
 */
import type * as tf from '@tensorflow/tfjs';

/** Scalar logs of a step or an epoch: `loss`, `acc`, `val_map`, ... */
export type Logs = Record<string, number>;

/** What a step hook receives besides its batch. */
export interface StepContext {
  epoch: number;
  /** Optimizer steps completed before this one, over the whole run. */
  globalStep: number;
  /** Index of the batch within the epoch. */
  batchIndex: number;
  /** Batches in this epoch (gradient accumulation flushes at its end). */
  stepsPerEpoch?: number;
  /** This replica and the number of replicas (data parallelism; 0 and 1 without it). */
  rank: number;
  worldSize: number;
  /** Mean of these gradients over all replicas (identity with one replica); call before applying them. */
  reduceGradients(grads: tf.NamedTensorMap): tf.NamedTensorMap;
}

/**
 * A trainable task: its models and optimizers (checkpointed by name), its batches, and its step.
 * The step is a hook, not a `model.fit` wrapper, so detection losses or two-optimizer GAN steps fit.
 */
export interface TrainTask<B> {
  models: Record<string, tf.LayersModel>;
  optimizers: Record<string, tf.Optimizer>;
  /** Batches per epoch (for the progress bar and schedules). */
  stepsPerEpoch: number;
  /**
   * The batches of one epoch; `seed` depends only on (run seed, epoch), so resumed epochs match. `epochs` is
   * the run's planned total (re-planned by a `--time` budget), for switching augmentation off near the end.
   */
  batches(epoch: number, seed: number, epochs: number): AsyncIterable<B>;
  /** One optimisation step; returns scalar logs (e.g. loss, accuracy). Must not leak tensors. */
  trainStep(batch: B, ctx: StepContext): Logs | Promise<Logs>;
  /** Images in a batch (for img/s). */
  batchSize(batch: B): number;
  /** Validation logs after an epoch, keys prefixed `val_` (the Trainer's `validate` option takes precedence). */
  validate?(epoch: number): Promise<Logs>;
  /** Releases a batch's tensors after its step. */
  disposeBatch?(batch: B): void;
  /** This replica's part of a batch (rows rank, rank + worldSize, ... or a contiguous block); needed for replicas > 1. */
  shard?(batch: B, rank: number, worldSize: number): B;
}

/** What a callback may read and change of the Trainer running it. */
export interface TrainerView {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  /** Planned epochs (a time budget re-plans them). */
  epochs: number;
  readonly stepsPerEpoch: number;
  /** Planned steps of the run: `epochs × stepsPerEpoch`, fewer when a time budget's last epoch is partial. */
  readonly totalSteps: number;
  batchIndex: number;
  validatedThisEpoch: boolean;
  history: Logs[];
  startEpoch: number;
  runningLogs: Logs;
  lastBatchSize: number;
  readonly checkpointDir: string;
  readonly isMain: boolean;
  log(line: string): void;
  stop(reason: string, options?: { failed?: boolean }): void;
  setLearningRate(lr: number): void;
  getLearningRate(name?: string): number;
  snapshotState(): TrainState;
}

/** Everything a run needs to continue exactly where it stopped, besides weights and optimizer slots. */
export interface TrainState {
  /** Epochs completed (the next epoch to run is this number). */
  epoch: number;
  /** Optimizer steps completed over the whole run. */
  globalStep: number;
  /** The run's RNG state. */
  rngState: number;
  /** Learning rate of each optimizer. */
  learningRates: Record<string, number>;
  /** Per-callback state (early-stopping counters, scheduler state, best score...). */
  callbacks: Record<string, unknown>;
  /** Per-epoch logs so far. */
  history: Record<string, number>[];
  /** Training wall-clock seconds so far, over all resumes. */
  seconds: number;
  /** Epochs planned by a time budget (absent without one). */
  plannedEpochs?: number;
  /** The step a time budget's plan ends at (its last epoch may be partial). */
  plannedSteps?: number;
}
