import { Callback, improves, type Logs, type MonitorMode, resolveMode } from './callbacks';

/**
 * Step decay: lr = baseLr · gamma^⌊epoch / stepSize⌋, set at the start of each epoch.
 *
 * @example
 * new StepDecay({ baseLr: 1e-3, stepSize: 5, gamma: 0.5 })
 */
export class StepDecay extends Callback {
  readonly name = 'StepDecay';
  override readonly allReplicas = true;
  constructor(readonly args: { baseLr: number; stepSize: number; gamma?: number }) {
    super();
  }
  onEpochBegin(epoch: number): void {
    const { baseLr, stepSize, gamma = 0.1 } = this.args;
    this.trainer.setLearningRate(baseLr * gamma ** Math.floor(epoch / stepSize));
  }
}

/** Cosine learning rate with linear warm-up, per step. */
export function cosineWithWarmup(step: number, args: { baseLr: number; totalSteps: number; warmupSteps?: number; minLr?: number }): number {
  const { baseLr, totalSteps, warmupSteps = 0, minLr = 0 } = args;
  if (step < warmupSteps) return (baseLr * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return minLr + (baseLr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * Cosine decay with linear warm-up, updated before every step (its state is the global step, which
 * the Trainer restores on resume).
 *
 * @example
 * new CosineDecay({ baseLr: 1e-3, totalSteps: epochs * stepsPerEpoch, warmupSteps: 100 })
 */
export class CosineDecay extends Callback {
  readonly name = 'CosineDecay';
  override readonly allReplicas = true;
  constructor(readonly args: { baseLr: number; totalSteps: number; warmupSteps?: number; minLr?: number }) {
    super();
  }
  /** A re-planned run (time budget) decays over its new length. */
  onPlanChange(_epochs: number, totalSteps: number): void {
    this.args.totalSteps = totalSteps;
  }
  onTrainBatchBegin(step: number): void {
    this.trainer.setLearningRate(cosineWithWarmup(step, this.args));
  }
}

/**
 * Multiplies the learning rate by `factor` when `monitor` has not improved for `patience` epochs.
 *
 * @example
 * new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2, minLr: 1e-5 })
 */
export class ReduceLROnPlateau extends Callback {
  readonly name = 'ReduceLROnPlateau';
  override readonly allReplicas = true;
  private best: number;
  private wait = 0;
  private cooldownLeft = 0;
  private readonly mode: 'min' | 'max';

  constructor(
    readonly args: { monitor?: string; factor?: number; patience?: number; minLr?: number; cooldown?: number; minDelta?: number; mode?: MonitorMode } = {},
  ) {
    super();
    this.mode = resolveMode(args.monitor ?? 'val_loss', args.mode ?? 'auto');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  onEpochEnd(_epoch: number, logs: Logs): void {
    const monitor = this.args.monitor ?? 'val_loss';
    const value = logs[monitor];
    if (value === undefined) {
      if (!this.trainer.validatedThisEpoch) return; // no validation this epoch
      throw new Error(`ReduceLROnPlateau monitors '${monitor}', which is not logged`);
    }
    if (this.cooldownLeft > 0) this.cooldownLeft--;
    if (improves(value, this.best, this.mode, this.args.minDelta ?? 0)) {
      this.best = value;
      this.wait = 0;
    } else if (this.cooldownLeft === 0 && ++this.wait >= (this.args.patience ?? 10)) {
      const lr = this.trainer.getLearningRate();
      const next = Math.max(this.args.minLr ?? 0, lr * (this.args.factor ?? 0.1));
      if (next < lr) {
        this.trainer.setLearningRate(next);
        this.trainer.log(`ReduceLROnPlateau: ${monitor} stalled, learning rate ${lr.toExponential(2)} → ${next.toExponential(2)}`);
      }
      this.wait = 0;
      this.cooldownLeft = this.args.cooldown ?? 0;
    }
  }

  getState() {
    return { best: this.best, wait: this.wait, cooldownLeft: this.cooldownLeft };
  }
  setState(s: unknown): void {
    Object.assign(this, s as object);
  }
}
