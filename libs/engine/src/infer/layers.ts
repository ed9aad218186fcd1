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

  /** Shape of the mask, broadcast over x (undefined = one draw per element). Subclasses drop whole groups. */
  protected noiseShape(_x: tf.Tensor): number[] | undefined {
    return undefined;
  }

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs.training || this.rate === 0) return x;
    if (x.dtype === 'float32' && tf.getKernel('CvRandomUniform', tf.getBackend())) {
      // tf.dropout's arithmetic with the uniform draws made on the device (WebGPU: no mask upload per step).
      return tf.tidy(() => {
        const keep = 1 - this.rate;
        const u = tf.engine().runKernel('CvRandomUniform', {}, { shape: this.noiseShape(x) ?? x.shape, seed: this.stepSeed }) as tf.Tensor;
        return tf.mul(x, tf.div(tf.floor(tf.add(u, keep)), keep));
      });
    }
    return tf.dropout(x, this.rate, this.noiseShape(x), this.stepSeed);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

// tfjs does not export its BatchNormalization class; take the constructor from an instance.
export const BatchNormalizationBase = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as new (
  args: Record<string, unknown>,
) => tf.layers.Layer;

/**
 * BatchNormalization that runs in inference mode while frozen (`trainable = false`), as Keras does since
 * 2.1.3: a frozen backbone keeps its moving statistics and normalises with them during fine-tuning.
 * tfjs's own layer normalises with batch statistics whenever `training` is true.
 *
 * Args: those of tf.layers.batchNormalization. Input/Output shape: any, same.
 */
export class FreezableBatchNorm extends BatchNormalizationBase {
  static className = 'FreezableBatchNorm';

  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const base = BatchNormalizationBase.prototype as unknown as { call: (this: unknown, i: unknown, k: unknown) => tf.Tensor };
    return base.call.call(this, inputs, { ...kwargs, training: !!kwargs.training && this.trainable });
  }
}

/**
 * Hard swish, x · ReLU6(x + 3) / 6 (MobileNetV3; PyTorch's `nn.Hardswish`). Input/Output shape: any, same.
 */
export class HardSwish extends tf.layers.Layer {
  static className = 'HardSwish';
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)));
  }
}

/**
 * Hard sigmoid, ReLU6(x + 3) / 6 (PyTorch's `nn.Hardsigmoid`; Keras' 'hardSigmoid' has another slope).
 * Input/Output shape: any, same.
 */
export class HardSigmoid extends tf.layers.Layer {
  static className = 'HardSigmoid';
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.div(tf.relu6(tf.add(x, 3)), 6));
  }
}

/**
 * Per-channel input normalisation, (x − mean) / std on 0..1 pixels (torchvision's `Normalize` after
 * `ToTensor`), kept inside the model so that every caller feeds 0..1 images as for the suite's other models.
 *
 * Args: mean, std (one value per channel). Input/Output shape: [..., C], same.
 */
export class Normalize extends tf.layers.Layer {
  static className = 'Normalize';
  readonly mean: number[];
  readonly std: number[];

  constructor(args: { mean: number[]; std: number[]; name?: string }) {
    super({ name: args.name });
    if (args.mean.length !== args.std.length || args.std.some((s) => !(s > 0)))
      throw new Error(`Normalize: mean and std need one value per channel and std > 0, got mean [${args.mean}] std [${args.std}]`);
    this.mean = [...args.mean];
    this.std = [...args.std];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(this.mean)), tf.tensor1d(this.std)));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mean: this.mean, std: this.std };
  }
}

/**
 * Stochastic depth (Huang et al.; torchvision's `StochasticDepth(p, 'row')`): in training each sample's
 * residual branch is dropped with probability `rate` and the kept ones scaled by 1 / (1 − rate); identity
 * at inference. Seeded per step like SeededDropout.
 *
 * Args: rate. Input/Output shape: [B, ...], same.
 */
export class StochasticDepth extends SeededDropout {
  static override className = 'StochasticDepth';
  protected override noiseShape(x: tf.Tensor): number[] {
    return [x.shape[0], ...x.shape.slice(1).map(() => 1)];
  }
}

/**
 * Engine layer classes and the plain tfjs class each one equals at inference; exports rename them so that
 * a stock `tf.loadLayersModel` loads the model without this project's code.
 */
export const PLAIN_INFERENCE_CLASSES: Record<string, string> = {
  SeededDropout: 'Dropout',
  FreezableBatchNorm: 'BatchNormalization',
};

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
  tf.serialization.registerClass(FreezableBatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
  for (const cls of [HardSwish, HardSigmoid, Normalize, StochasticDepth]) tf.serialization.registerClass(cls);
}

/** Registers a custom layer class with its plain-tfjs inference equivalent (for exports). */
export function registerPlainEquivalent(className: string, plainClassName: string): void {
  PLAIN_INFERENCE_CLASSES[className] = plainClassName;
}

/** A model topology with engine layer classes renamed to their plain tfjs inference equivalents. */
export function toPlainTopology(topology: unknown): unknown {
  return JSON.parse(JSON.stringify(topology), (_key, value) =>
    value && typeof value === 'object' && typeof value.class_name === 'string' && PLAIN_INFERENCE_CLASSES[value.class_name]
      ? { ...value, class_name: PLAIN_INFERENCE_CLASSES[value.class_name] }
      : value,
  );
}
