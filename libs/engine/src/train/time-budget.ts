/**
 * A training run's wall-clock budget: how many epochs (and steps of a last partial epoch) fit, re-planned as the
 * pace becomes known, and when to stop. The Trainer asks after every epoch and applies the answer (through
 * replica 0 when there are several replicas, so that all take the same decision).
 */

/** Where the run stands when the budget is asked. */
export interface RunProgress {
  /** Epochs completed over the whole run. */
  epochsDone: number;
  /** Steps completed over the whole run. */
  globalStep: number;
  stepsPerEpoch: number;
  /** The planned epochs and the step the run ends at (`epochs × stepsPerEpoch` before any plan). */
  epochs: number;
  totalSteps: number;
  /** Has a plan been made (in this process, or restored from a checkpoint)? */
  planned: boolean;
  /** Training seconds before this process started (resumes). */
  priorSeconds: number;
}

/** What the budget asks for: a new plan (or none), lines to log, and a reason to stop (or none). */
export interface BudgetDecision {
  plan: { epochs: number; steps: number } | null;
  lines: string[];
  stop: string | null;
}

export class TimeBudget {
  /** Seconds the last validation took (0 before one ran); the part of an epoch a partial epoch still pays in full. */
  valSeconds = 0;
  /** Training seconds at the end of this process's first epoch (0 until then). */
  private firstEpochEnd = 0;
  private replanned = false;

  constructor(readonly seconds: number) {}

  /**
   * The run planned from `now`: the whole epochs of `perEpoch` seconds (validation included) that fit in the
   * budget, then the part of one more that fits with its validation, if at least a tenth of an epoch; 2 % of
   * the budget is kept back for timing noise.
   */
  planFor(now: number, perEpoch: number, run: RunProgress): { epochs: number; steps: number; whole: number; partSteps: number } {
    const left = Math.max(0, this.seconds * 0.98 - now);
    const whole = Math.floor(left / perEpoch);
    const trainPerEpoch = Math.max(1e-6, perEpoch - this.valSeconds);
    const part = Math.min(1, Math.max(0, (left - whole * perEpoch - this.valSeconds) / trainPerEpoch));
    const partSteps = part >= 0.1 ? Math.floor(part * run.stepsPerEpoch) : 0;
    // From the step reached (an earlier epoch may have been partial): whole epochs, then the partial one.
    return {
      epochs: run.epochsDone + whole + (partSteps > 0 ? 1 : 0),
      steps: run.globalStep + whole * run.stepsPerEpoch + partSteps,
      whole,
      partSteps,
    };
  }

  /**
   * After an epoch, `now` seconds into the run and `epochsThisFit` epochs into this process: after the first
   * timed epoch, plan the steps that fit; after the second, plan again from the epochs after the first (the first
   * carries start-up costs), and again whenever that pace has drifted by more than 2 % of the run; stop when the
   * next epoch would not fit.
   */
  decide(now: number, epochsThisFit: number, run: RunProgress): BudgetDecision {
    let perEpoch = (now - run.priorSeconds) / epochsThisFit;
    const describe = ({ epochs, partSteps }: { epochs: number; partSteps: number }) =>
      partSteps > 0 ? `${epochs - 1} epochs and ${partSteps} steps` : `${epochs} epochs`;
    const decision: BudgetDecision = { plan: null, lines: [], stop: null };
    if (!run.planned) {
      const p = this.planFor(now, perEpoch, run);
      decision.plan = { epochs: p.epochs, steps: p.steps };
      decision.lines.push(`time budget ${(this.seconds / 60).toFixed(1)} min: ${perEpoch.toFixed(1)} s per epoch, planned ${describe(p)}`);
    }
    if (epochsThisFit === 1) this.firstEpochEnd = now;
    else if (this.firstEpochEnd > 0) {
      perEpoch = (now - this.firstEpochEnd) / (epochsThisFit - 1);
      // After the second epoch, and whenever the epochs after the first have turned out more than 2 % of the
      // run faster or slower than planned (caches warm up: the last minutes would go unused).
      const p = this.planFor(now, perEpoch, run);
      const done = run.globalStep >= run.totalSteps; // the plan's last step is behind us: nothing to re-plan
      if (!done && (!this.replanned || Math.abs(p.steps - run.totalSteps) > 0.02 * run.totalSteps)) {
        this.replanned = true;
        if (p.epochs !== run.epochs || p.steps !== run.totalSteps) {
          decision.plan = { epochs: p.epochs, steps: p.steps };
          decision.lines.push(`time budget: ${perEpoch.toFixed(1)} s per epoch after the first, planned ${describe(p)}`);
        }
      }
    }
    const epochs = decision.plan?.epochs ?? run.epochs;
    if (run.epochsDone < epochs) {
      const nextSteps = Math.min(run.stepsPerEpoch, (decision.plan?.steps ?? run.totalSteps) - run.globalStep);
      const next = (nextSteps / run.stepsPerEpoch) * (perEpoch - this.valSeconds) + this.valSeconds;
      if (now + next > this.seconds) decision.stop = `time budget of ${(this.seconds / 60).toFixed(1)} min spent after ${run.epochsDone} epochs`;
    }
    return decision;
  }
}
