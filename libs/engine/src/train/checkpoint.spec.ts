/**
 * A checkpoint's state.json keeps every number a callback holds — also the ±Infinity an EarlyStopping or
 * ReduceLROnPlateau `best` starts from. (Plain JSON writes Infinity as null: a run with --val-interval > 1 resumed
 * before its first validation then compared `v < null`, stopped early and cut the learning rate for nothing.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EarlyStopping } from './callbacks';
import { readCheckpointState, saveCheckpoint } from './checkpoint';
import { ReduceLROnPlateau } from './schedules';
import type { TrainerView, TrainState } from './types';

const stateWith = (callbacks: Record<string, unknown>): TrainState => ({
  epoch: 1,
  globalStep: 10,
  rngState: 7,
  learningRates: { model: 1e-3 },
  callbacks,
  history: [{ loss: 1 }],
  seconds: 1,
});

/** A Trainer view that records stops and learning rates. */
function fakeTrainer() {
  const seen = { stops: [] as string[], lr: 1e-3 };
  const view = {
    validatedThisEpoch: true,
    checkpointDir: os.tmpdir(),
    isMain: true,
    models: {},
    optimizers: {},
    stop: (reason: string) => seen.stops.push(reason),
    setLearningRate: (lr: number) => (seen.lr = lr),
    getLearningRate: () => seen.lr,
    log: () => {},
  } as unknown as TrainerView;
  return { view, seen };
}

describe('checkpoint state', () => {
  it('round-trips ±Infinity and NaN in callback state', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-')), 'last');
    await saveCheckpoint(dir, {}, {}, stateWith({ a: { best: Infinity, worst: -Infinity, odd: NaN, n: 0.5, s: 'Infinity' } }));
    expect(readCheckpointState(dir)!.callbacks.a).toEqual({ best: Infinity, worst: -Infinity, odd: NaN, n: 0.5, s: 'Infinity' });
  });

  it('EarlyStopping and ReduceLROnPlateau resumed before their first validation behave as if never interrupted', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-')), 'last');
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 1 });
    const plateau = new ReduceLROnPlateau({ monitor: 'val_loss', patience: 1, factor: 0.5 });
    await saveCheckpoint(dir, {}, {}, stateWith({ EarlyStopping: es.getState(), ReduceLROnPlateau: plateau.getState() }));
    const saved = readCheckpointState(dir)!.callbacks;
    const esResumed = new EarlyStopping({ monitor: 'val_loss', patience: 1 });
    const plateauResumed = new ReduceLROnPlateau({ monitor: 'val_loss', patience: 1, factor: 0.5 });
    esResumed.setState(saved.EarlyStopping);
    plateauResumed.setState(saved.ReduceLROnPlateau);
    const { view, seen } = fakeTrainer();
    esResumed.trainer = plateauResumed.trainer = view;
    await esResumed.onEpochEnd(1, { loss: 0.9, val_loss: 0.7 }); // the first validation improves on "no score yet"
    plateauResumed.onEpochEnd(1, { loss: 0.9, val_loss: 0.7 });
    expect(seen.stops).toEqual([]);
    expect(seen.lr).toBe(1e-3);
  });
});
