import * as tf from '@tensorflow/tfjs';
import type { Trainer } from './trainer';

/** Numbers logged by a step or an epoch (loss, accuracy, val_loss, lr...). */
export type Logs = Record<string, number>;

/**
 * Base class of training callbacks, with Keras's hook names. A callback that must survive `--resume`
 * returns its counters from `getState` and takes them back in `setState`.
 */
export abstract class Callback {
  /** Key of this callback's state in checkpoints (unique per run). */
  abstract readonly name: string;
  /** Set by the Trainer before `onTrainBegin`. */
  trainer!: Trainer;
  onTrainBegin?(): Promise<void> | void;
  onEpochBegin?(epoch: number): Promise<void> | void;
  onTrainBatchBegin?(step: number): Promise<void> | void;
  onTrainBatchEnd?(step: number, logs: Logs): Promise<void> | void;
  onEpochEnd?(epoch: number, logs: Logs): Promise<void> | void;
  onTrainEnd?(logs: Logs): Promise<void> | void;
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
 * weights of the best epoch at the end (kept in memory as copies).
 *
 * @example
 * new EarlyStopping({ monitor: 'val_loss', patience: 3, restoreBestWeights: true })
 */
export class EarlyStopping extends Callback {
  readonly name = 'EarlyStopping';
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

  onEpochEnd(epoch: number, logs: Logs): void {
    const value = logs[this.monitor];
    if (value === undefined) throw new Error(`EarlyStopping monitors '${this.monitor}', which is not logged; logged: ${Object.keys(logs).join(', ')}`);
    if (improves(value, this.best, this.mode, this.args.minDelta ?? 0)) {
      this.best = value;
      this.bestEpoch = epoch;
      this.wait = 0;
      if (this.args.restoreBestWeights) this.keepBestWeights();
    } else if (++this.wait >= (this.args.patience ?? 0)) {
      this.trainer.stop(`early stopping: ${this.monitor} did not improve for ${this.wait} epochs (best ${this.best.toFixed(4)} at epoch ${this.bestEpoch + 1})`);
    }
  }

  onTrainEnd(): void {
    if (this.args.restoreBestWeights && this.bestWeights) {
      for (const [name, model] of Object.entries(this.trainer.models)) model.setWeights(this.bestWeights[name]);
      this.trainer.log(`restored the weights of epoch ${this.bestEpoch + 1} (${this.monitor}=${this.best.toFixed(4)})`);
    }
    this.disposeBest();
  }

  private keepBestWeights(): void {
    this.disposeBest();
    this.bestWeights = Object.fromEntries(
      Object.entries(this.trainer.models).map(([name, m]) => [name, m.getWeights().map((w) => tf.keep(w.clone()))]),
    );
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
  onTrainBatchEnd(step: number, logs: Logs): void {
    const bad = Object.entries(logs).find(([k, v]) => k.includes('loss') && !Number.isFinite(v));
    if (bad) {
      this.trainer.stop(`${bad[0]} became ${bad[1]} at step ${step}; stopped, the last good checkpoint is kept`, { failed: true });
    }
  }
}
