import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { Callback } from './callbacks';
import type { Logs, StepContext, TrainTask } from './types';
import { loadCheckpoint, readCheckpointState, type TrainState } from './checkpoint';
import { isStepSeeded } from '../infer/layers';
import { reduceOverReplicas, type Replicas } from './parallel';
import { TimeBudget } from './time-budget';
import { deriveSeed, Rng } from '../infer/rng';
import { withTrainingPrecision } from '../kernels/precision';

export type { StepContext, TrainTask } from './types';

export interface TrainerOptions {
  /** Total epochs (a resumed run continues to this number; a larger one extends a finished run). */
  epochs: number;
  /** The run directory: checkpoints/, metrics.csv, metrics.jsonl. */
  runDir: string;
  /** Seed of everything random in the run. */
  seed: number;
  callbacks?: Callback[];
  /** Continue from `runDir/checkpoints/last`. */
  resume?: boolean;
  log?: (line: string) => void;
  /** Per-optimizer multiplier of the scheduled learning rate (per-group LRs, e.g. a slower backbone). */
  lrScales?: Record<string, number>;
  /**
   * Data-parallel replicas (`startReplicas`): each takes its shard of every batch, gradients and step logs
   * are averaged over replicas, validation runs on replica 0 and its logs are shared. Give the other
   * replicas only callbacks without side effects (schedules, early stopping, NaN guard).
   */
  replicas?: Replicas;
  /** Validate after every N-th epoch (and after the last one); default 1. */
  valInterval?: number;
  /** Validation after an epoch (e.g. a task's Validator on the EMA weights); default: the task's `validate`. */
  validate?: (epoch: number) => Promise<Logs>;
  /**
   * Wall-clock budget of the training in seconds (over resumes). After the first epoch the Trainer re-plans
   * the run to the steps that fit (callbacks hear `onPlanChange`, e.g. a cosine schedule re-spans): whole
   * epochs, then the part of one more that fits with its validation; it stops early if the next epoch would
   * not fit after all.
   */
  timeBudget?: number;
  /**
   * The training step's convolutions: f32 (default), or bf16 operands with f32 sums and results (mixed precision;
   * the native kernels on AMX / AVX512-BF16 cores, f32 elsewhere). Validation and everything outside the
   * convolutions stay f32.
   */
  precision?: 'f32' | 'bf16';
}

/** A single-replica step context (for calling a task's step directly, e.g. in tests). */
export function stepContext(globalStep: number, epoch = 0, batchIndex = globalStep, stepsPerEpoch?: number): StepContext {
  return { epoch, globalStep, batchIndex, stepsPerEpoch, rank: 0, worldSize: 1, reduceGradients: (g) => g };
}

export interface FitResult {
  history: Logs[];
  /** Epochs completed over the whole run. */
  epochsDone: number;
  /** Why training ended before `epochs`, if it did. */
  stopReason?: string;
  /** True when it stopped on an error condition (NaN loss). */
  failed: boolean;
  /** Training seconds over the whole run (resumes included). */
  trainSeconds: number;
}

/** Drives epochs of a TrainTask with callbacks, checkpoints and exact resume. */
export class Trainer<B = unknown> {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  /** Planned epochs: the option, or what fits a time budget once the first epoch is timed. */
  epochs: number;
  readonly stepsPerEpoch: number;
  /** Index of the current batch within its epoch. */
  batchIndex = 0;
  /** Did the epoch that just ended validate? (With `valInterval` > 1 most epochs do not.) */
  validatedThisEpoch = false;
  history: Logs[] = [];
  /** Epoch the current fit started from (0, or the checkpoint's epoch on resume). */
  startEpoch = 0;
  /** Running means of the current epoch's step logs. */
  runningLogs: Logs = {};
  lastBatchSize = 0;
  private globalStep = 0;
  private priorSeconds = 0;
  private fitStarted = performance.now();
  private epochsDone = 0;
  private stopReason?: string;
  private failed = false;
  private readonly rng: Rng;
  private readonly callbacks: Callback[];
  private readonly budget?: TimeBudget;

  constructor(
    private readonly task: TrainTask<B>,
    private readonly options: TrainerOptions,
  ) {
    this.models = task.models;
    this.optimizers = task.optimizers;
    this.epochs = options.epochs;
    this.stepsPerEpoch = task.stepsPerEpoch;
    this.rng = new Rng(options.seed);
    this.callbacks = options.callbacks ?? [];
    if (options.timeBudget) this.budget = new TimeBudget(options.timeBudget);
  }

  get checkpointDir(): string {
    return path.join(this.options.runDir, 'checkpoints');
  }

  /** Replica 0 (the only one that writes files); true without replicas. */
  get isMain(): boolean {
    return this.options.replicas?.isMain ?? true;
  }

  log(line: string): void {
    (this.options.log ?? console.log)(line);
  }

  /** Ends training after the current step; `failed` marks an error stop (the epoch is not checkpointed). */
  stop(reason: string, { failed = false } = {}): void {
    this.stopReason ??= reason;
    this.failed ||= failed;
  }

  /**
   * Sets the scheduled learning rate: each optimizer gets `lr × lrScales[name]` (1 by default); tfjs
   * optimizers read `learningRate` every step.
   */
  setLearningRate(lr: number): void {
    for (const [name, opt] of Object.entries(this.optimizers)) {
      (opt as unknown as { learningRate: number }).learningRate = lr * (this.options.lrScales?.[name] ?? 1);
    }
  }

  /** The scheduled (unscaled) learning rate, read from the first optimizer or the one named. */
  getLearningRate(name?: string): number {
    const key = name ?? Object.keys(this.optimizers)[0];
    return (this.optimizers[key] as unknown as { learningRate: number }).learningRate / (this.options.lrScales?.[key] ?? 1);
  }

  /** The state a checkpoint stores after the epoch that just ended. */
  snapshotState(): TrainState {
    const callbacks = Object.fromEntries(this.callbacks.filter((c) => c.getState).map((c) => [c.name, c.getState!()]));
    const learningRates = Object.fromEntries(Object.entries(this.optimizers).map(([k, o]) => [k, (o as unknown as { learningRate: number }).learningRate]));
    return {
      epoch: this.epochsDone,
      globalStep: this.globalStep,
      rngState: this.rng.getState(),
      learningRates,
      callbacks,
      history: this.history,
      seconds: this.elapsedSeconds(),
      ...(this.planned ? { plannedEpochs: this.epochs } : {}),
      ...(this.stepLimit !== undefined ? { plannedSteps: this.stepLimit } : {}),
    };
  }

  /** Training seconds over the whole run, including before a resume. */
  elapsedSeconds(): number {
    return this.priorSeconds + (performance.now() - this.fitStarted) / 1000;
  }

  private async restore(): Promise<void> {
    const dir = path.join(this.checkpointDir, 'last');
    if (!readCheckpointState(dir)) {
      throw new Error(`'${this.options.runDir}' is not a resumable run (no checkpoints/last/state.json); start a new run without --resume`);
    }
    const state = await loadCheckpoint(dir, this.models, this.optimizers);
    this.epochsDone = this.startEpoch = state.epoch;
    this.globalStep = state.globalStep;
    this.rng.setState(state.rngState);
    this.history = state.history;
    this.priorSeconds = state.seconds ?? 0;
    for (const [k, lr] of Object.entries(state.learningRates)) {
      if (this.optimizers[k]) (this.optimizers[k] as unknown as { learningRate: number }).learningRate = lr;
    }
    for (const cb of this.callbacks) if (cb.setState && state.callbacks[cb.name] !== undefined) cb.setState(state.callbacks[cb.name]);
    if (state.plannedEpochs !== undefined && this.options.timeBudget) this.plan(state.plannedEpochs, state.plannedSteps);
    this.log(`resumed from ${dir}: ${state.epoch} epochs done, step ${state.globalStep}`);
  }

  /** Each seeded layer gets its own seed per step: two dropout layers never draw nested masks. */
  private setStepSeeds(): void {
    for (const [modelName, model] of Object.entries(this.models)) {
      // By position, not name: tfjs numbers unnamed layers per process, a resumed model may name them differently.
      model.layers.forEach((layer, i) => {
        if (isStepSeeded(layer)) layer.setStepSeed(deriveSeed(this.options.seed, 'step', this.globalStep, modelName, i));
      });
    }
  }

  private planned = false;
  /** The step a time-budget run ends at, once planned (its last epoch may be partial). */
  private stepLimit?: number;

  /** Planned steps of the whole run: `epochs × stepsPerEpoch`, or the time budget's plan (its last epoch may be partial). */
  get totalSteps(): number {
    return this.stepLimit ?? this.epochs * this.stepsPerEpoch;
  }

  /** Sets the planned epochs and the step the run ends at, and tells the callbacks. */
  private plan(epochs: number, stepLimit?: number): void {
    this.epochs = epochs;
    this.stepLimit = stepLimit;
    this.planned = true;
    for (const cb of this.callbacks) cb.onPlanChange?.(epochs, this.totalSteps);
  }

  /**
   * Time budget: plan, re-plan or stop after an epoch (the decision is TimeBudget's; replica 0's is taken by all:
   * their clocks differ a little, and a plan one step apart would leave one replica waiting in an all-reduce the
   * others never reach).
   */
  private checkBudget(epochsThisFit: number): void {
    if (!this.budget) return;
    const decision = this.budget.decide(this.elapsedSeconds(), epochsThisFit, {
      epochsDone: this.epochsDone,
      globalStep: this.globalStep,
      stepsPerEpoch: this.stepsPerEpoch,
      epochs: this.epochs,
      totalSteps: this.totalSteps,
      planned: this.planned,
      priorSeconds: this.priorSeconds,
    });
    const replicas = this.options.replicas;
    const d = replicas && replicas.worldSize > 1 ? replicas.broadcast(decision) : decision;
    if (d.plan) this.plan(d.plan.epochs, d.plan.steps);
    d.lines.forEach((line) => this.log(line));
    if (d.stop) this.stop(d.stop);
  }

  /** Step logs averaged over replicas (every replica then takes the same decisions, e.g. NaN stops). */
  private shareLogs(logs: Logs): Logs {
    const replicas = this.options.replicas;
    if (!replicas || replicas.worldSize === 1) return logs;
    const keys = Object.keys(logs); // same order on every replica (same code)
    const values = replicas.allReduceMean(Float32Array.from(keys, (k) => logs[k]));
    return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
  }

  private async runEpoch(epoch: number): Promise<Logs> {
    const sums: Logs = {};
    let count = 0;
    let batchIndex = 0;
    this.runningLogs = {};
    const replicas = this.options.replicas;
    const rank = replicas?.rank ?? 0;
    const worldSize = replicas?.worldSize ?? 1;
    if (worldSize > 1 && !this.task.shard) throw new Error('this task cannot run on several replicas (it has no shard method); use one worker');
    const reduceGradients = worldSize > 1 ? (g: tf.NamedTensorMap) => reduceOverReplicas(replicas!, g) : (g: tf.NamedTensorMap) => g;
    const stepsPerEpoch = this.stepsPerEpoch;
    for await (const full of this.task.batches(epoch, deriveSeed(this.options.seed, 'epoch', epoch), this.epochs)) {
      this.batchIndex = batchIndex;
      for (const cb of this.callbacks) await cb.onTrainBatchBegin?.(this.globalStep);
      this.setStepSeeds();
      const batch = worldSize > 1 ? this.task.shard!(full, rank, worldSize) : full;
      const logs = this.shareLogs(
        await withTrainingPrecision(this.options.precision ?? 'f32', async () =>
          this.task.trainStep(batch, { epoch, globalStep: this.globalStep, batchIndex, stepsPerEpoch, rank, worldSize, reduceGradients }),
        ),
      );
      this.lastBatchSize = this.task.batchSize(full);
      if (batch !== full) this.task.disposeBatch?.(batch);
      this.task.disposeBatch?.(full);
      this.globalStep++;
      batchIndex++;
      count++;
      for (const [k, v] of Object.entries(logs)) sums[k] = (sums[k] ?? 0) + v;
      this.runningLogs = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / count]));
      for (const cb of this.callbacks) await cb.onTrainBatchEnd?.(this.globalStep - 1, logs);
      if (this.failed || (this.stepLimit !== undefined && this.globalStep >= this.stepLimit)) break;
      // Steps are synchronous compute; yielding to the event loop lets timers (progress output) run.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { ...this.runningLogs };
  }

  /** Runs the remaining epochs; an error stops every callback's timers (`onTrainAbort`) and is thrown on. */
  async fit(): Promise<FitResult> {
    try {
      return await this.fitEpochs();
    } catch (e) {
      for (const cb of this.callbacks) {
        try {
          cb.onTrainAbort?.(e);
        } catch {
          // the first error is the one to report
        }
      }
      throw e;
    }
  }

  private async fitEpochs(): Promise<FitResult> {
    if (this.isMain) fs.mkdirSync(this.options.runDir, { recursive: true }); // replicas never touch the run folder
    for (const cb of this.callbacks) cb.trainer = this as Trainer<unknown>;
    if (this.options.resume) await this.restore();
    for (const cb of this.callbacks) await cb.onTrainBegin?.();
    this.fitStarted = performance.now();
    for (let epoch = this.epochsDone; epoch < this.epochs && !this.stopReason; epoch++) {
      for (const cb of this.callbacks) await cb.onEpochBegin?.(epoch);
      const trainLogs = await this.runEpoch(epoch);
      if (this.failed) break;
      const replicas = this.options.replicas;
      const isMain = replicas?.isMain ?? true;
      const interval = this.options.valInterval ?? 1;
      const validate = this.options.validate ?? (this.task.validate ? (e: number) => this.task.validate!(e) : undefined);
      this.validatedThisEpoch = !!validate && ((epoch + 1) % interval === 0 || epoch + 1 >= this.epochs);
      const valStart = performance.now();
      let valLogs: Logs = isMain && this.validatedThisEpoch ? await validate!(epoch) : {};
      if (this.validatedThisEpoch && this.budget) this.budget.valSeconds = (performance.now() - valStart) / 1000;
      if (replicas && replicas.worldSize > 1) valLogs = replicas.broadcast(valLogs); // replica 0 validates for all
      const logs: Logs = { ...trainLogs, ...valLogs, lr: this.getLearningRate() };
      this.epochsDone = epoch + 1;
      this.history.push({ epoch: epoch + 1, ...logs, time: this.elapsedSeconds() }); // time: seconds since the run began
      this.checkBudget(epoch + 1 - this.startEpoch);
      for (const cb of this.callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
    const last = this.history[this.history.length - 1] ?? {};
    for (const cb of this.callbacks) await cb.onTrainEnd?.(last);
    if (this.stopReason) this.log(this.stopReason);
    return {
      history: this.history,
      epochsDone: this.epochsDone,
      stopReason: this.stopReason,
      failed: this.failed,
      trainSeconds: this.elapsedSeconds(),
    };
  }
}
