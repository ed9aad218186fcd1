import * as tf from '@tensorflow/tfjs';

/**
 * Dropout whose mask is drawn from a seed the Trainer sets before every step (`setStepSeed`), so masks
 * differ between steps yet a resumed run draws the same masks as an uninterrupted one. tfjs's own Dropout
 * either reuses one fixed seed for every step or draws from Math.random.
 *
 * Args: rate (fraction of units dropped). Input shape: any. Output shape: same as input.
 * @example
 * model.add(new SeededDropout({ rate: 0.25 }));
 */
export class SeededDropout extends tf.layers.Layer {
  static className = 'SeededDropout';
  readonly rate: number;
  private stepSeed = 0;

  constructor(args: { rate: number; name?: string }) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.supportsMasking = true;
  }

  /** Seed for this step's mask (the Trainer derives it from the run seed and the step number). */
  setStepSeed(seed: number): void {
    this.stepSeed = seed;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, this.stepSeed);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

/** Layers that take a per-step seed. */
export interface StepSeeded {
  setStepSeed(seed: number): void;
}

export function isStepSeeded(layer: unknown): layer is StepSeeded {
  return typeof (layer as StepSeeded)?.setStepSeed === 'function';
}

/**
 * Registers the engine's custom layer classes with tfjs serialization (idempotent), so saved models that
 * use them load in Node and in the browser.
 */
export function registerEngineLayers(): void {
  tf.serialization.registerClass(SeededDropout);
}
