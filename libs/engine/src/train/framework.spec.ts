/**
 * The task framework: the optimisation step against hand computations, EMA with warm-up, validation
 * interval, time budget, per-layer step seeds, early-stopping weights across a resume, and whole jobs
 * with replicas (run folder, a replica that fails before joining).
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../infer/backend';
import { Callback, EarlyStopping } from './callbacks';
import { EmaCallback, ModelEma, cloneModel } from './ema';
import { SeededDropout } from '../infer/layers';
import { ModelCheckpoint } from './logging';
import { OptimizationStep } from './optim';
import { CosineDecay } from './schedules';
import { TinyTask, tinyModel } from '../testing/fixtures';
import { stepContext, Trainer } from './trainer';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../../../node_modules/.bin/tsx');
const tmpDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'framework-'));
const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('OptimizationStep', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  /** loss = Σ w·x for w = [1, 2] (named like a kernel, so weight decay applies): ∂loss/∂w = x. */
  const setup = () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, `dense_${Math.random().toString(36).slice(2)}/kernel`);
    const b = tf.variable(tf.tensor1d([3]), true, `dense_${Math.random().toString(36).slice(2)}/bias`);
    const loss = (x: number[]) => () => tf.add(tf.sum(tf.mul(w, tf.tensor1d(x))), tf.sum(b)) as tf.Scalar;
    return { w, b, loss };
  };

  it('plain SGD, then clipping by global norm, match a hand computation', () => {
    const { w, b, loss } = setup();
    const step = new OptimizationStep({ optimizers: { sgd: tf.train.sgd(0.1) } });
    tf.dispose(step.run(loss([3, 4]), [w, b], stepContext(0)));
    expect(Array.from(w.dataSync())).toEqual([1 - 0.3, 2 - 0.4].map(Math.fround));
    const clipped = new OptimizationStep({ optimizers: { sgd: tf.train.sgd(0.1) }, clipNorm: 1 });
    tf.dispose(clipped.run(loss([3, 4]), [w, b], stepContext(1)));
    // gradient (3, 4, 1) has norm √26; clipped to norm 1: each component divided by √26.
    const s = 1 / (Math.sqrt(26) + 1e-6);
    expect(w.dataSync()[0]).toBeCloseTo(0.7 - 0.1 * 3 * s, 6);
    expect(w.dataSync()[1]).toBeCloseTo(1.6 - 0.1 * 4 * s, 6);
    expect(clipped.lastNorm).toBeCloseTo(Math.sqrt(26), 5);
    tf.dispose([w, b]);
  });

  it('accumulates k micro-batches into one update of their mean gradient, flushing at the end of the epoch', () => {
    const { w, b, loss } = setup();
    const step = new OptimizationStep({ optimizers: { sgd: tf.train.sgd(0.1) }, accumulate: 2 });
    tf.dispose(step.run(loss([2, 0]), [w, b], stepContext(0, 0, 0, 3)));
    expect(Array.from(w.dataSync())).toEqual([1, 2]); // window not complete: nothing applied
    tf.dispose(step.run(loss([0, 4]), [w, b], stepContext(1, 0, 1, 3)));
    expect(Array.from(w.dataSync())).toEqual([1 - 0.1, 2 - 0.2].map(Math.fround)); // mean (1, 2)
    tf.dispose(step.run(loss([10, 10]), [w, b], stepContext(2, 0, 2, 3))); // last batch of the epoch: applied alone
    expect(w.dataSync()[0]).toBeCloseTo(0.9 - 1, 6);
    const before = tf.memory().numTensors;
    tf.dispose(step.run(loss([1, 1]), [w, b], stepContext(3, 1, 0, 3)));
    expect(tf.memory().numTensors).toBe(before + 2); // the pending window's sums only
    step.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, b]);
  });

  it('parameter groups go to their optimizers; decoupled weight decay scales kernels by 1 − lr·wd, not biases', () => {
    const { w, b, loss } = setup();
    const step = new OptimizationStep({
      optimizers: { fast: tf.train.sgd(0.1), slow: tf.train.sgd(0.01) },
      groups: () => [
        { optimizer: 'fast', owns: (n) => n.endsWith('kernel') },
        { optimizer: 'slow', owns: (n) => n.endsWith('bias') },
      ],
      weightDecay: 0.5,
    });
    tf.dispose(step.run(loss([1, 1]), [w, b], stepContext(0)));
    expect(w.dataSync()[0]).toBeCloseTo((1 - 0.1) * (1 - 0.1 * 0.5), 6);
    expect(w.dataSync()[1]).toBeCloseTo((2 - 0.1) * (1 - 0.1 * 0.5), 6);
    expect(b.dataSync()[0]).toBeCloseTo(3 - 0.01, 6); // bias: the slow rate, no decay
    tf.dispose([w, b]);
  });

  it('leaks neither tensors nor data buffers over steps with clipping and accumulation', () => {
    const { w, b, loss } = setup();
    const step = new OptimizationStep({ optimizers: { adam: tf.train.adam(0.1) }, clipNorm: 0.5, accumulate: 2, weightDecay: 0.1 });
    tf.dispose(step.run(loss([1, 2]), [w, b], stepContext(0, 0, 0, 2)));
    tf.dispose(step.run(loss([1, 2]), [w, b], stepContext(1, 0, 1, 2))); // creates Adam's slots
    const before = tf.memory();
    for (let i = 0; i < 4; i++) tf.dispose(step.run(loss([1, 2]), [w, b], stepContext(2 + i, 1, i % 2, 2)));
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([w, b]);
  });
});

describe('ModelEma', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('warms the decay up as decay·(1 − exp(−t/τ)) and averages every float weight, BatchNorm statistics included', async () => {
    const model = tinyModel(1);
    const ema = new ModelEma(model, await cloneModel(tinyModel(2)), { decay: 0.9, tau: 10 });
    expect(weightsOf(ema.model)).toEqual(weightsOf(model)); // starts as a copy
    const before = weightsOf(model);
    model.setWeights(model.getWeights().map((w) => tf.add(w, 1)));
    const d = 0.9 * (1 - Math.exp(-1 / 10));
    expect(ema.currentDecay()).toBeCloseTo(d, 12);
    ema.update();
    const after = weightsOf(ema.model);
    const moving = model.weights.findIndex((w) => w.name.includes('moving_mean'));
    expect(moving).toBeGreaterThanOrEqual(0);
    for (const i of [0, moving]) expect(after[i][0]).toBeCloseTo(d * before[i][0] + (1 - d) * (before[i][0] + 1), 5);
    expect(ema.updates).toBe(1);
    expect(ema.currentDecay()).toBeCloseTo(0.9 * (1 - Math.exp(-2 / 10)), 12);
  });

  it('one CvEmaUpdate kernel for all weights gives the composed form (two Multiply, one Add per weight) bit for bit', async () => {
    expect(tf.getKernel('CvEmaUpdate', tf.getBackend())).toBeDefined();
    const model = tinyModel(3);
    const ema = new ModelEma(model, await cloneModel(model), { decay: 0.9995, tau: 7 });
    for (let step = 0; step < 3; step++) {
      model.setWeights(model.getWeights().map((w, i) => tf.add(w, tf.randomNormal(w.shape, 0, 0.1, 'float32', 10 * step + i))));
      const d = ema.currentDecay();
      const want = ema.model.weights.map((e, i) => Array.from(tf.add(tf.mul(e.read(), d), tf.mul(model.weights[i].read(), 1 - d)).dataSync()));
      ema.update();
      expect(weightsOf(ema.model)).toEqual(want);
    }
  });

  it('is checkpointed and resumed exactly: a killed-and-resumed run ends with the same EMA weights', async () => {
    class Crash extends Callback {
      readonly name = 'Crash';
      onTrainBatchEnd(step: number) {
        if (step === 9) throw new Error('simulated kill');
      }
    }
    const run = async (dir: string, resume: boolean, crash: boolean) => {
      const task = new TinyTask(resume ? 9 : 1);
      const ema = new ModelEma(task.models.model, await cloneModel(task.models.model), { decay: 0.8, tau: 5 });
      task.models.model_ema = ema.model;
      const callbacks = [new EmaCallback(ema), new ModelCheckpoint({ dir: path.join(dir, 'checkpoints') }), ...(crash ? [new Crash()] : [])];
      await new Trainer(task, { epochs: 4, runDir: dir, seed: 5, callbacks, resume, log: () => {} }).fit();
      return weightsOf(ema.model);
    };
    const full = await run(tmpDir(), false, false);
    const dir = tmpDir();
    await expect(run(dir, false, true)).rejects.toThrow('simulated kill');
    const resumed = await run(dir, true, false);
    expect(resumed).toEqual(full);
  });
});

describe('Trainer options of the job', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('--val-interval validates every N-th epoch and the last; early stopping skips the others', async () => {
    const validated: number[] = [];
    const result = await new Trainer(new TinyTask(), {
      epochs: 5,
      runDir: tmpDir(),
      seed: 1,
      valInterval: 2,
      log: () => {},
      validate: async (epoch) => (validated.push(epoch + 1), { val_loss: 1 }),
      callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 3 })],
    }).fit();
    expect(validated).toEqual([2, 4, 5]);
    expect(result.history.map((h) => 'val_loss' in h)).toEqual([false, true, false, true, true]);
  });

  it('--time plans the epochs that fit after the first one, plans again after the second (the first is slow), re-spans the cosine schedule and stops within the budget', async () => {
    class Slow extends TinyTask {
      private calls = 0;
      override trainStep(...args: Parameters<TinyTask['trainStep']>) {
        const until = performance.now() + 60 + (this.calls++ === 0 ? 300 : 0); // the first step pays a start-up cost
        while (performance.now() < until);
        return super.trainStep(...args);
      }
    }
    const cosine = new CosineDecay({ baseLr: 0.01, totalSteps: 1000 * 4 });
    const lines: string[] = [];
    const result = await new Trainer(new Slow(), {
      epochs: 1000,
      runDir: tmpDir(),
      seed: 1,
      timeBudget: 5, // seconds; ample beside the ~0.55 s first epoch, so a busy machine still leaves room for two plans
      callbacks: [cosine],
      log: (l) => lines.push(l),
    }).fit();
    const text = lines.join('\n');
    expect(text).toMatch(/time budget \d\.\d min: .* s per epoch, planned \d+ epochs/);
    // "planned 12 epochs", or "planned 11 epochs and 2 steps" (a partial last epoch): in steps of 4 per epoch
    const plans = [...text.matchAll(/planned (\d+) epochs(?: and (\d+) steps)?/g)].map((m) => Number(m[1]) * 4 + Number(m[2] ?? 0));
    expect(plans.length).toBeGreaterThanOrEqual(2); // more when the pace drifts (a busy machine)
    expect(plans[0]).toBeGreaterThanOrEqual(2 * 4);
    expect(plans[1]).toBeGreaterThan(plans[0]); // 4 steps × 60 ms ≈ 0.25 s per epoch after the first (0.55 s)
    expect(plans[1]).toBeLessThan(25 * 4);
    const last = plans[plans.length - 1];
    expect(cosine.args.totalSteps).toBe(last);
    expect(result.epochsDone).toBeLessThanOrEqual(Math.ceil(last / 4));
    expect(result.trainSeconds).toBeLessThan(5.5);
  });

  it('--time fills the budget with a partial last epoch: the run ends at the planned step, where the cosine schedule ends', async () => {
    class Slow extends TinyTask {
      override stepsPerEpoch = 10;
      steps = 0;
      override trainStep(...args: Parameters<TinyTask['trainStep']>) {
        const until = performance.now() + 100 + (this.steps++ === 0 ? 300 : 0);
        while (performance.now() < until);
        return super.trainStep(...args);
      }
    }
    const task = new Slow();
    const cosine = new CosineDecay({ baseLr: 0.01, totalSteps: 1000 * 10 });
    const lrs: number[] = [];
    const lines: string[] = [];
    const result = await new Trainer(task, {
      epochs: 1000,
      runDir: tmpDir(),
      seed: 1,
      // ~1.3 s for the first epoch, ~1 s for the others: two whole epochs end at ~2.3 s, and most of a third fits
      timeBudget: 3,
      callbacks: [
        cosine,
        new (class extends Callback {
          readonly name = 'Lr';
          onTrainBatchEnd() {
            lrs.push(this.trainer.getLearningRate());
          }
        })(),
      ],
      log: (l) => lines.push(l),
    }).fit();
    expect(lines.join('\n')).toMatch(/planned \d+ epochs and \d+ steps/);
    expect(task.steps).toBe(cosine.args.totalSteps); // the run stopped at the planned step
    expect(lrs[lrs.length - 1]).toBeLessThan(0.01 * 0.02); // the schedule's end
    expect(result.trainSeconds).toBeGreaterThan(3 * 0.7); // whole epochs alone stop at ~2.3 s on an idle machine
    expect(result.trainSeconds).toBeLessThan(3.3);
  });

  it("--time on several replicas: every replica takes replica 0's plan (its own clock would plan otherwise)", async () => {
    const task = new (class extends TinyTask {
      steps = 0;
      override trainStep(...args: Parameters<TinyTask['trainStep']>) {
        this.steps++;
        return super.trainStep(...args);
      }
    })();
    const fromMain = { plan: { epochs: 2, steps: 6 }, lines: ['planned by replica 0'], stop: null };
    const replica1 = {
      rank: 1,
      worldSize: 2,
      isMain: false,
      allReduceMean: (v: Float32Array) => v,
      // the planning decision comes from replica 0; anything else (validation logs) passes through
      broadcast: <T>(v: T): T => (v && typeof v === 'object' && 'plan' in v ? (fromMain as T) : v),
      abort: () => {},
      close: async () => {},
    };
    const lines: string[] = [];
    const cosine = new CosineDecay({ baseLr: 0.01, totalSteps: 400 });
    const result = await new Trainer(task, {
      epochs: 100,
      runDir: tmpDir(),
      seed: 1,
      timeBudget: 1000, // alone, this replica would plan ~100 epochs
      replicas: replica1,
      callbacks: [cosine],
      log: (l) => lines.push(l),
    }).fit();
    expect(lines).toContain('planned by replica 0');
    expect(task.steps).toBe(6); // one epoch of 4, then 2 steps of the second
    expect(result.epochsDone).toBe(2);
    expect(cosine.args.totalSteps).toBe(6);
  });

  it('gives each dropout layer its own mask seed per step (no nested, correlated masks)', async () => {
    const input = tf.input({ shape: [400] });
    const a = new SeededDropout({ rate: 0.5 }).apply(input) as tf.SymbolicTensor;
    const b = new SeededDropout({ rate: 0.5 }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: [a, b] });
    const masks: number[][][] = [];
    const task = new (class extends TinyTask {
      override trainStep() {
        const outs = model.apply(tf.ones([1, 400]), { training: true }) as tf.Tensor[];
        masks.push(outs.map((t) => Array.from(t.dataSync(), (v) => (v === 0 ? 0 : 1))));
        tf.dispose(outs);
        return { loss: 0 };
      }
    })();
    task.models = { model };
    await new Trainer(task, { epochs: 1, runDir: tmpDir(), seed: 3, log: () => {} }).fit();
    const [first, second] = masks[0];
    const agree = first.filter((v, i) => v === second[i]).length / first.length;
    expect(agree).toBeGreaterThan(0.35); // independent masks agree on about half the units
    expect(agree).toBeLessThan(0.65);
    expect(masks[1][0]).not.toEqual(first); // and change from step to step
  });

  it('EarlyStopping restores the best weights after a resume past the best epoch, as an uninterrupted run does', async () => {
    class Crash extends Callback {
      readonly name = 'Crash';
      onTrainBatchEnd(step: number) {
        if (step === 13) throw new Error('simulated kill'); // in epoch 4, after the best (epoch 2) was saved
      }
    }
    const run = async (dir: string, resume: boolean, crash: boolean) => {
      const task = new TinyTask(resume ? 7 : 1);
      const callbacks = [
        new EarlyStopping({ monitor: 'val_loss', patience: 10, restoreBestWeights: true }),
        new ModelCheckpoint({ dir: path.join(dir, 'checkpoints') }),
        ...(crash ? [new Crash()] : []),
      ];
      await new Trainer(task, { epochs: 5, runDir: dir, seed: 2, callbacks, resume, log: () => {} }).fit();
      return weightsOf(task.models.model);
    };
    const full = await run(tmpDir(), false, false);
    const dir = tmpDir();
    await expect(run(dir, false, true)).rejects.toThrow('simulated kill');
    expect(fs.existsSync(path.join(dir, 'checkpoints', 'early-stopping-best', 'model', 'model.json'))).toBe(true);
    expect(await run(dir, true, false)).toEqual(full);
  });
});

describe('jobs with data-parallel replicas', () => {
  const env = { ...process.env, CV_BACKEND: 'wasm' };

  it("without --out, replica workers use the main thread's run folder and create no other (no empty exp2)", () => {
    const cwd = tmpDir();
    const r = spawnSync(tsx, [path.join(here, 'fixtures', 'tiny-job.ts'), '--workers', '2', '--epochs', '2'], { cwd, encoding: 'utf8', env });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(path.join(cwd, 'runs', 'tiny'))).toEqual(['exp']);
    expect(fs.existsSync(path.join(cwd, 'runs', 'tiny', 'exp', 'model', 'model.json'))).toBe(true);
  });

  it('a replica that fails before joining makes the job exit with its error instead of hanging', () => {
    const started = Date.now();
    const r = spawnSync(tsx, [path.join(here, 'fixtures', 'replica-fails.ts')], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.signal, 'the main thread hung').toBe(null);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/replica 1 (failed|exited)/);
    expect(r.stdout).not.toContain('all-reduce returned');
    expect(Date.now() - started).toBeLessThan(60_000);
  });
});
