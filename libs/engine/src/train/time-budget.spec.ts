import { describe, expect, it } from 'vitest';
import { type RunProgress, TimeBudget } from './time-budget';

const run = (over: Partial<RunProgress>): RunProgress => ({
  epochsDone: 1,
  globalStep: 100,
  stepsPerEpoch: 100,
  epochs: 50,
  totalSteps: 5000,
  planned: false,
  priorSeconds: 0,
  ...over,
});

describe('TimeBudget', () => {
  it('plans whole epochs, then the part of one more that fits with its validation (hand-computed)', () => {
    const b = new TimeBudget(100);
    b.valSeconds = 1;
    // 10 s into the run after one epoch: 98 − 10 = 88 s left → 8 epochs of 10 s, then (88 − 80 − 1) / 9 = 0.78 of one
    const d = b.decide(10, 1, run({}));
    expect(d.plan).toEqual({ epochs: 10, steps: 100 + 800 + 77 });
    expect(d.lines).toEqual(['time budget 1.7 min: 10.0 s per epoch, planned 9 epochs and 77 steps']);
    expect(d.stop).toBeNull();
  });

  it('drops a last part under a tenth of an epoch', () => {
    const b = new TimeBudget(100);
    // 98 − 12 = 86 s left at 12 s per epoch → 7 epochs (84 s), 2 s = 0.17 of one: kept; at 13 s: 6 epochs, 8/13 kept
    expect(b.planFor(12, 12, run({})).partSteps).toBe(16);
    // 98 − 11.5 = 86.5 s left at 10.7 s per epoch → 8 epochs (85.6 s), 0.9 s = 0.08 of one: dropped
    const p = b.planFor(11.5, 10.7, run({}));
    expect([p.whole, p.partSteps, p.epochs, p.steps]).toEqual([8, 0, 9, 900]);
  });

  it('re-plans from the epochs after the first once, then only on a drift over 2 % of the run', () => {
    const b = new TimeBudget(100);
    b.decide(20, 1, run({})); // a slow first epoch (start-up): 20 s
    // the second took 10 s: planned from it, 98 − 30 = 68 s → 6 epochs and (68 − 60) / 10 of one
    const second = b.decide(30, 2, run({ epochsDone: 2, globalStep: 200, epochs: 5, totalSteps: 500, planned: true }));
    expect(second.plan).toEqual({ epochs: 9, steps: 200 + 600 + 80 });
    expect(second.lines[0]).toMatch(/^time budget: 10.0 s per epoch after the first, planned 8 epochs and 80 steps$/);
    // on pace after the third: no new plan
    const steady = run({ epochsDone: 3, globalStep: 300, epochs: 9, totalSteps: 880, planned: true });
    expect(b.decide(40, 3, steady).plan).toBeNull();
    // the fourth took 15 s: (55 − 20) / 3 = 11.7 s per epoch; 43 s left → 3 epochs + 8 / 11.7 of one: 768 steps, 13 % off
    const drift = b.decide(55, 4, run({ epochsDone: 4, globalStep: 400, epochs: 9, totalSteps: 880, planned: true }));
    expect(drift.plan).toEqual({ epochs: 8, steps: 400 + 300 + 68 });
  });

  it('stops when the next epoch, with its validation, would not fit, and lets a last partial one that does run', () => {
    const b = new TimeBudget(1000);
    b.valSeconds = 2;
    b.decide(10, 1, run({}));
    b.decide(20, 2, run({ epochsDone: 2, globalStep: 200, planned: true })); // the one re-plan after the second epoch
    // 991 s in after 95 epochs: (991 − 10) / 94 = 10.44 s per epoch; the plan (9,600 steps) is within 2 % of what now
    // fits (9,500), so it stands, and the 96th epoch would end at 991 + 10.44 > 1000
    const late = run({ epochsDone: 95, globalStep: 9500, epochs: 96, totalSteps: 9600, planned: true });
    const d = b.decide(991, 95, late);
    expect(d.plan).toBeNull();
    expect(d.stop).toBe('time budget of 16.7 min spent after 95 epochs');
    // a plan whose last epoch is 20 steps: 0.2 × 8.44 + 2 = 3.7 s fits
    expect(b.decide(991, 95, { ...late, totalSteps: 9520 }).stop).toBeNull();
  });
});
