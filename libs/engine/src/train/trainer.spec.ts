import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../infer/backend';
import { Callback, EarlyStopping, TerminateOnNaN } from './callbacks';
import { readCheckpointState } from './checkpoint';
import { MetricsLogger, ModelCheckpoint, ProgressBar } from './logging';
import { PassThrough } from 'node:stream';
import { Rng, deriveSeed } from '../infer/rng';
import { CosineDecay, ReduceLROnPlateau, StepDecay, cosineWithWarmup } from './schedules';
import { TinyTask, type XY } from '../testing/fixtures';
import { stepContext, Trainer } from './trainer';

const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'trainer-'));
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

/** Throws from inside an epoch, as a SIGKILL would interrupt it. */
class Crash extends Callback {
  readonly name = 'Crash';
  constructor(private readonly atStep: number) {
    super();
  }
  onTrainBatchEnd(step: number) {
    if (step === this.atStep) throw new Error('simulated kill');
  }
}

describe('Trainer', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('resumes a run killed mid-epoch and ends with the same weights as an uninterrupted one', async () => {
    const fullDir = tmpDir();
    const full = new TinyTask();
    const cbs = (dir: string) => [new MetricsLogger({ dir }), new ModelCheckpoint({ dir: path.join(dir, 'checkpoints') })];
    await new Trainer(full, { epochs: 4, runDir: fullDir, seed: 5, callbacks: cbs(fullDir) }).fit();

    const dir = tmpDir();
    const killed = new TinyTask();
    await expect(new Trainer(killed, { epochs: 4, runDir: dir, seed: 5, callbacks: [...cbs(dir), new Crash(9)] }).fit()).rejects.toThrow('simulated kill');
    expect(readCheckpointState(path.join(dir, 'checkpoints', 'last'))!.epoch).toBe(2); // epochs 1-2 done, killed in epoch 3
    const resumed = new TinyTask(99); // different init: everything must come from the checkpoint
    const result = await new Trainer(resumed, { epochs: 4, runDir: dir, seed: 5, callbacks: cbs(dir), resume: true }).fit();
    expect(result.epochsDone).toBe(4);
    const a = weightsOf(full.models.model).flat();
    const b = weightsOf(resumed.models.model).flat();
    expect(b.length).toBe(a.length);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-5);
    const lines = fs
      .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.epoch)).toEqual([1, 2, 3, 4]);
    expect(fs.readFileSync(path.join(dir, 'metrics.csv'), 'utf8').split('\n')[0]).toBe('epoch,loss,val_loss,lr,time');
  });

  it('an error mid-epoch stops the progress bar (its timer would keep the process alive) and is thrown on', async () => {
    const stream = new PassThrough();
    stream.resume();
    const bar = new ProgressBar({ stream });
    await expect(new Trainer(new TinyTask(), { epochs: 2, runDir: tmpDir(), seed: 1, callbacks: [bar, new Crash(2)] }).fit()).rejects.toThrow('simulated kill');
    expect((bar as unknown as { bar: unknown }).bar).toBeNull();
  });

  it('extends a finished run with a larger --epochs', async () => {
    const dir = tmpDir();
    const cb = () => [new ModelCheckpoint({ dir: path.join(dir, 'checkpoints') })];
    await new Trainer(new TinyTask(), { epochs: 2, runDir: dir, seed: 1, callbacks: cb() }).fit();
    const more = await new Trainer(new TinyTask(), { epochs: 3, runDir: dir, seed: 1, callbacks: cb(), resume: true }).fit();
    expect(more.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
  });

  it('refuses to resume a folder that is not a run', async () => {
    await expect(new Trainer(new TinyTask(), { epochs: 2, runDir: tmpDir(), seed: 1, resume: true }).fit()).rejects.toThrow(/is not a resumable run/);
  });

  it('leaks no tensors over a training step', async () => {
    const task = new TinyTask();
    const it = task.batches(0, 1)[Symbol.asyncIterator]();
    const warm = (await it.next()).value as XY;
    task.trainStep(warm, stepContext(0)); // creates optimizer slots once
    const batch = (await it.next()).value as XY;
    const before = tf.memory().numTensors;
    task.trainStep(batch, stepContext(1));
    expect(tf.memory().numTensors).toBe(before);
    task.disposeBatch(warm);
    task.disposeBatch(batch);
  });

  it('EarlyStopping stops after `patience` epochs without improvement and restores the best weights', async () => {
    const task = new TinyTask();
    let bestWeights: number[][] = [];
    const spy = new (class extends Callback {
      readonly name = 'spy';
      onEpochEnd(epoch: number) {
        if (epoch === 1) bestWeights = weightsOf(task.models.model); // val_loss is lowest (0.5) at epoch 2
      }
    })();
    const result = await new Trainer(task, {
      epochs: 10,
      runDir: tmpDir(),
      seed: 1,
      callbacks: [spy, new EarlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true })],
      log: () => {},
    }).fit();
    expect(result.epochsDone).toBe(4); // epochs 3 and 4 did not improve
    expect(result.stopReason).toMatch(/early stopping/);
    expect(weightsOf(task.models.model)).toEqual(bestWeights);
  });

  it('TerminateOnNaN stops at the first non-finite loss and does not checkpoint that epoch', async () => {
    const dir = tmpDir();
    const task = new TinyTask();
    const poison = new (class extends Callback {
      readonly name = 'poison';
      onEpochBegin(epoch: number) {
        task.lossOverride = epoch === 1 ? NaN : null;
      }
    })();
    const result = await new Trainer(task, {
      epochs: 3,
      runDir: dir,
      seed: 1,
      log: () => {},
      callbacks: [poison, new TerminateOnNaN(), new ModelCheckpoint({ dir: path.join(dir, 'checkpoints') })],
    }).fit();
    expect(result.failed).toBe(true);
    expect(result.stopReason).toMatch(/loss became NaN/);
    expect(readCheckpointState(path.join(dir, 'checkpoints', 'last'))!.epoch).toBe(1);
  });

  it('ModelCheckpoint writes last every epoch and best on improvement, leaving no temp folders', async () => {
    const dir = tmpDir();
    await new Trainer(new TinyTask(), {
      epochs: 4,
      runDir: dir,
      seed: 1,
      callbacks: [new ModelCheckpoint({ dir: path.join(dir, 'checkpoints'), monitor: 'val_loss' })],
    }).fit();
    expect(readCheckpointState(path.join(dir, 'checkpoints', 'last'))!.epoch).toBe(4);
    expect(readCheckpointState(path.join(dir, 'checkpoints', 'best'))!.epoch).toBe(2);
    expect(fs.readdirSync(path.join(dir, 'checkpoints')).sort()).toEqual(['best', 'last']);
    const state = readCheckpointState(path.join(dir, 'checkpoints', 'last'))!;
    expect(state.globalStep).toBe(16);
    expect(Object.keys(state.learningRates)).toEqual(['adam']);
  });

  it('learning-rate schedules: step, cosine with warm-up, reduce on plateau', async () => {
    const lrs: number[] = [];
    const recorder = new (class extends Callback {
      readonly name = 'rec';
      onEpochEnd() {
        lrs.push(this.trainer.getLearningRate());
      }
    })();
    await new Trainer(new TinyTask(), {
      epochs: 5,
      runDir: tmpDir(),
      seed: 1,
      callbacks: [new StepDecay({ baseLr: 0.1, stepSize: 2, gamma: 0.5 }), recorder],
    }).fit();
    expect(lrs).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);

    expect(cosineWithWarmup(0, { baseLr: 1, totalSteps: 10, warmupSteps: 2 })).toBeCloseTo(0.5);
    expect(cosineWithWarmup(2, { baseLr: 1, totalSteps: 10, warmupSteps: 2 })).toBeCloseTo(1);
    expect(cosineWithWarmup(6, { baseLr: 1, totalSteps: 10, warmupSteps: 2 })).toBeCloseTo(0.5);
    expect(cosineWithWarmup(10, { baseLr: 1, totalSteps: 10, warmupSteps: 2, minLr: 0.1 })).toBeCloseTo(0.1);
    lrs.length = 0;
    await new Trainer(new TinyTask(), { epochs: 2, runDir: tmpDir(), seed: 1, callbacks: [new CosineDecay({ baseLr: 1, totalSteps: 8 }), recorder] }).fit();
    expect(lrs[1]).toBeCloseTo(cosineWithWarmup(7, { baseLr: 1, totalSteps: 8 }));

    lrs.length = 0;
    await new Trainer(new TinyTask(), {
      epochs: 6,
      runDir: tmpDir(),
      seed: 1,
      log: () => {},
      callbacks: [new ReduceLROnPlateau({ monitor: 'val_loss', factor: 0.5, patience: 2 }), recorder],
    }).fit();
    // val_loss: 1, .5, .6, .7 (2nd non-improvement: halve), .8, .9 (halve again)
    expect(lrs.map((v) => +v.toFixed(6))).toEqual([0.01, 0.01, 0.01, 0.005, 0.005, 0.0025]);
  });
});

describe('ProgressBar', () => {
  it('shows epoch, running loss and throughput, and logs an epoch summary line', async () => {
    await initBackend({ log: false });
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => (text += d.toString()));
    const lines: string[] = [];
    await new Trainer(new TinyTask(), { epochs: 2, runDir: tmpDir(), seed: 1, callbacks: [new ProgressBar({ stream })], log: (l) => lines.push(l) }).fit();
    expect(text).toMatch(/epoch 1\/2 .*4\/4 loss=\d\.\d{4}/);
    expect(text).toMatch(/img\/s/);
    expect(lines.filter((l) => /^epoch \d\/2 loss=\S+ val_loss=\S+ lr=\S+ \(\d+\.\d s\)$/.test(l))).toHaveLength(2);
  });
});

describe('Rng and deriveSeed', () => {
  it('is deterministic, restorable and spreads labels', () => {
    const a = new Rng(42);
    const first = [a.next(), a.next()];
    const state = a.getState();
    const next = a.next();
    const b = new Rng(0);
    b.setState(state);
    expect(b.next()).toBe(next);
    expect(new Rng(42).next()).toBe(first[0]);
    expect(deriveSeed(1, 'epoch', 1)).not.toBe(deriveSeed(1, 'epoch', 2));
    expect(deriveSeed(1, 'epoch', 1)).toBe(deriveSeed(1, 'epoch', 1));
  });
});
