import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { replaceDirAtomic } from '../infer/files';
import { loadModel, saveModel } from '../infer/model-io';
import type { Logs, TrainerView } from './types';

export type { Logs } from './types';

/** Numbers logged by a step or an epoch (loss, accuracy, val_loss, lr...). */

/**
 * Base class of training callbacks, with Keras's hook names. A callback that must survive `--resume`
 * returns its counters from `getState` and takes them back in `setState`.
 */
export abstract class Callback {
  /** Key of this callback's state in checkpoints (unique per run). */
  abstract readonly name: string;
  /**
   * Does this callback change training (schedules, early stopping, NaN guard, EMA)? Then it runs on every
   * data-parallel replica, which must take the same decisions; the others only print or write files and
   * run on replica 0 alone.
   */
  readonly allReplicas: boolean = false;
  /** Set by the Trainer before `onTrainBegin`. */
  trainer!: TrainerView;
  onTrainBegin?(): Promise<void> | void;
  onEpochBegin?(epoch: number): Promise<void> | void;
  onTrainBatchBegin?(step: number): Promise<void> | void;
  onTrainBatchEnd?(step: number, logs: Logs): Promise<void> | void;
  onEpochEnd?(epoch: number, logs: Logs): Promise<void> | void;
  onTrainEnd?(logs: Logs): Promise<void> | void;
  /** Training stopped with an error (thrown on from fit()): release what would keep the process alive (timers, bars). */
  onTrainAbort?(error: unknown): void;
  /** The run's planned epochs changed (a `--time` budget re-plans after the first epoch); `totalSteps` ends the run (its last epoch may be partial). */
  onPlanChange?(epochs: number, totalSteps: number): void;
  getState?(): unknown;
  setState?(state: unknown): void;
}

export type MonitorMode = 'min' | 'max' | 'auto';

/** 'auto' means max for accuracy-like names, min otherwise (as Keras). */
export function resolveMode(monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  return /acc|auc|iou|map|precision|recall|f1/i.test(monitor) ? 'max' : 'min';
}

/** Is `value` better than `best` by more than `minDelta`? */
export function improves(value: number, best: number, mode: 'min' | 'max', minDelta = 0): boolean {
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/**
 * Stops training when `monitor` has not improved for `patience` epochs; optionally restores the
 * weights of the best epoch at the end. Those weights are kept in memory and, on replica 0, written to
 * `checkpoints/early-stopping-best`, so a run resumed after its best epoch restores the same weights as
 * an uninterrupted one. Epochs without the monitored value (validation every N epochs) are skipped.
 *
 * @example
 * new EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })
 */
export class EarlyStopping extends Callback {
  readonly name = 'EarlyStopping';
  override readonly allReplicas = true;
  private best: number;
  private wait = 0;
  private bestEpoch = -1;
  private bestWeights: Record<string, tf.Tensor[]> | null = null;
  private readonly mode: 'min' | 'max';

  constructor(readonly args: { monitor?: string; patience?: number; minDelta?: number; mode?: MonitorMode; restoreBestWeights?: boolean } = {}) {
    super();
    this.mode = resolveMode(args.monitor ?? 'val_loss', args.mode ?? 'auto');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  get monitor(): string {
    return this.args.monitor ?? 'val_loss';
  }

  /** Where the best weights are kept on disk (replica 0). */
  get bestDir(): string {
    return path.join(this.trainer.checkpointDir, 'early-stopping-best');
  }

  async onEpochEnd(epoch: number, logs: Logs): Promise<void> {
    const value = logs[this.monitor];
    if (value === undefined) {
      if (!this.trainer.validatedThisEpoch) return; // no validation this epoch
      throw new Error(`EarlyStopping monitors '${this.monitor}', which is not logged; logged: ${Object.keys(logs).join(', ')}`);
    }
    if (improves(value, this.best, this.mode, this.args.minDelta ?? 0)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.args.restoreBestWeights) await this.keepBestWeights();
    } else if (++this.wait >= (this.args.patience ?? 0)) {
      this.trainer.stop(
        `early stopping: ${this.monitor} did not improve for ${this.wait} epochs (best ${this.best.toFixed(4)} at epoch ${this.bestEpoch + 1})`,
      );
    }
  }

  async onTrainEnd(): Promise<void> {
    if (this.args.restoreBestWeights && this.bestEpoch >= 0) {
      if (this.bestWeights) {
        for (const [name, model] of Object.entries(this.trainer.models)) model.setWeights(this.bestWeights[name]);
      } else if (this.trainer.isMain && fs.existsSync(this.bestDir)) {
        // Resumed after the best epoch: the copies in memory went with the interrupted process.
        for (const [name, model] of Object.entries(this.trainer.models)) {
          const saved = await loadModel(path.join(this.bestDir, name));
          model.setWeights(saved.getWeights());
          saved.dispose();
        }
      } else if (this.trainer.isMain) {
        throw new Error(`EarlyStopping: the weights of epoch ${this.bestEpoch + 1} are neither in memory nor in '${this.bestDir}'`);
      }
      if (this.bestWeights || this.trainer.isMain)
        this.trainer.log(`restored the weights of epoch ${this.bestEpoch + 1} (${this.monitor}=${this.best.toFixed(4)})`);
    }
    this.disposeBest();
  }

  private async keepBestWeights(): Promise<void> {
    this.disposeBest();
    this.bestWeights = Object.fromEntries(Object.entries(this.trainer.models).map(([name, m]) => [name, m.getWeights().map((w) => tf.keep(w.clone()))]));
    if (!this.trainer.isMain) return;
    await replaceDirAtomic(this.bestDir, async (tmp) => {
      for (const [name, model] of Object.entries(this.trainer.models)) await saveModel(model, path.join(tmp, name));
    });
  }

  private disposeBest(): void {
    if (this.bestWeights) Object.values(this.bestWeights).forEach((ws) => tf.dispose(ws));
    this.bestWeights = null;
  }

  getState() {
    return { best: this.best, wait: this.wait, bestEpoch: this.bestEpoch };
  }

  setState(s: unknown): void {
    Object.assign(this, s as object);
  }
}

/** Stops training at the first step whose loss is NaN or infinite; the last good checkpoint stays. */
export class TerminateOnNaN extends Callback {
  readonly name = 'TerminateOnNaN';
  override readonly allReplicas = true;
  onTrainBatchEnd(step: number, logs: Logs): void {
    const bad = Object.entries(logs).find(([k, v]) => k.includes('loss') && !Number.isFinite(v));
    if (bad) {
      this.trainer.stop(`${bad[0]} became ${bad[1]} at step ${step}; stopped, the last good checkpoint is kept`, { failed: true });
    }
  }
}
