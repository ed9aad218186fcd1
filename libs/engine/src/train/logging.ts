import cliProgress from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import { Callback, improves, type Logs, type MonitorMode, resolveMode } from './callbacks';
import { saveCheckpoint } from './checkpoint';

const fmt = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(2));

/** Per-epoch progress bar (cli-progress) with running loss/metrics, images/s and ETA. */
export class ProgressBar extends Callback {
  readonly name = 'ProgressBar';
  private bar: cliProgress.SingleBar | null = null;
  private started = 0;
  private seen = 0;

  constructor(readonly args: { stream?: NodeJS.WritableStream } = {}) {
    super();
  }

  onEpochBegin(epoch: number): void {
    const { epochs, stepsPerEpoch, totalSteps } = this.trainer;
    const steps = Math.max(1, Math.min(stepsPerEpoch, totalSteps - epoch * stepsPerEpoch)); // a budget's last epoch may be partial
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch + 1}/${epochs} |{bar}| {value}/{total} {metrics} | {rate} img/s | ETA {eta_formatted}`,
        stream: this.args.stream ?? process.stderr,
        noTTYOutput: true,
        notTTYSchedule: 15_000,
        etaBuffer: 50,
        hideCursor: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(steps, 0, { metrics: '', rate: '-' });
    this.started = performance.now();
    this.seen = 0;
  }

  onTrainBatchEnd(): void {
    this.seen += this.trainer.lastBatchSize;
    const seconds = (performance.now() - this.started) / 1000;
    const metrics = Object.entries(this.trainer.runningLogs)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' ');
    this.bar?.increment(1, { metrics, rate: seconds > 0 ? Math.round(this.seen / seconds) : '-' });
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    this.bar?.stop();
    this.bar = null;
    const seconds = (performance.now() - this.started) / 1000;
    const line = Object.entries(logs)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' ');
    this.trainer.log(`epoch ${epoch + 1}/${this.trainer.epochs} ${line} (${seconds.toFixed(1)} s)`);
  }

  onTrainEnd(): void {
    this.bar?.stop();
  }

  /** A failed step: the bar stops (its redraw timer would keep the process alive and cover the error line). */
  onTrainAbort(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

/** Appends each epoch's logs to `metrics.csv` and `metrics.jsonl` in the run directory. */
export class MetricsLogger extends Callback {
  readonly name = 'MetricsLogger';
  constructor(readonly args: { dir: string }) {
    super();
  }

  private get jsonl() {
    return path.join(this.args.dir, 'metrics.jsonl');
  }

  private get csv() {
    return path.join(this.args.dir, 'metrics.csv');
  }

  /** On resume, drop rows of epochs the checkpoint does not contain (a kill may have logged them). */
  onTrainBegin(): void {
    fs.mkdirSync(this.args.dir, { recursive: true });
    const kept = this.trainer.history.filter((h) => h.epoch <= this.trainer.startEpoch);
    fs.writeFileSync(this.jsonl, kept.map((h) => JSON.stringify(h) + '\n').join(''));
    this.writeCsv(kept);
  }

  onEpochEnd(): void {
    const last = this.trainer.history[this.trainer.history.length - 1];
    fs.appendFileSync(this.jsonl, JSON.stringify(last) + '\n');
    this.writeCsv(this.trainer.history);
  }

  private writeCsv(rows: Logs[]): void {
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const lines = [columns.join(','), ...rows.map((r) => columns.map((c) => r[c] ?? '').join(','))];
    fs.writeFileSync(this.csv, rows.length ? lines.join('\n') + '\n' : '');
  }
}

/**
 * Saves `checkpoints/last` after every epoch and `checkpoints/best` when `monitor` improves. Each holds
 * the weights, the optimizer slots, the epoch, LR-schedule and RNG state, and every callback's state,
 * written atomically (temp dir, then rename).
 *
 * @example
 * new ModelCheckpoint({ dir: 'runs/classify/exp/checkpoints', monitor: 'val_accuracy' })
 */
export class ModelCheckpoint extends Callback {
  readonly name = 'ModelCheckpoint';
  private best: number;
  private readonly mode: 'min' | 'max';

  constructor(readonly args: { dir: string; monitor?: string; mode?: MonitorMode; saveBest?: boolean }) {
    super();
    this.mode = resolveMode(args.monitor ?? 'val_loss', args.mode ?? 'auto');
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }

  async onEpochEnd(_epoch: number, logs: Logs): Promise<void> {
    const value = logs[this.args.monitor ?? 'val_loss'];
    const better = value !== undefined && improves(value, this.best, this.mode);
    if (better) this.best = value;
    const state = this.trainer.snapshotState();
    const { models, optimizers } = this.trainer;
    await saveCheckpoint(path.join(this.args.dir, 'last'), models, optimizers, state);
    if (better && this.args.saveBest !== false) await saveCheckpoint(path.join(this.args.dir, 'best'), models, {}, state);
  }

  getState() {
    return { best: this.best };
  }
  setState(s: unknown): void {
    Object.assign(this, s as object);
  }
}
