import * as tf from '@tensorflow/tfjs';
import { registerPlainEquivalent, SeededDropout } from '@cv/engine/core';

type Inputs = tf.Tensor | tf.Tensor[];
const one = (inputs: Inputs) => (Array.isArray(inputs) ? inputs[0] : inputs);

/**
 * Spatial dropout (Tompson et al. 2015): drops whole channels of a [B, H, W, C] map, scaling the rest by
 * 1/(1−rate); identity at inference. Masks come from the per-step seed the Trainer sets.
 *
 * Args: rate. Input shape: [B, H, W, C]. Output shape: same.
 * @example
 * x = new SpatialDropout2D({ rate: 0.1 }).apply(x);
 */
export class SpatialDropout2D extends SeededDropout {
  static className = 'SpatialDropout2D';

  protected noiseShape(x: tf.Tensor): number[] {
    const [b, , , c] = x.shape;
    return [b, 1, 1, c];
  }
}

/**
 * DropBlock (Ghiasi et al. 2018): drops contiguous blockSize×blockSize regions of each channel; the
 * seed probability γ is set so that about `rate` of the units are dropped; the kept units are rescaled
 * by (count / kept). Identity at inference.
 *
 * Args: rate, blockSize. Input shape: [B, H, W, C]. Output shape: same.
 * @example
 * x = new DropBlock2D({ rate: 0.1, blockSize: 3 }).apply(x);
 */
export class DropBlock2D extends tf.layers.Layer {
  static className = 'DropBlock2D';
  readonly rate: number;
  readonly blockSize: number;
  private stepSeed = 0;

  constructor(args: { rate: number; blockSize?: number; name?: string }) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1)) throw new Error(`DropBlock rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.blockSize = args.blockSize ?? 3;
  }

  setStepSeed(seed: number): void {
    this.stepSeed = seed;
  }

  call(inputs: Inputs, kwargs: Record<string, unknown>): tf.Tensor {
    const x = one(inputs);
    if (!kwargs.training || this.rate === 0) return x;
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const k = Math.min(this.blockSize, h, w);
      // γ from the paper: rate/k² × (area / area where a whole block fits).
      const gamma = (this.rate / (k * k)) * ((h * w) / ((h - k + 1) * (w - k + 1)));
      const seeds = tf.cast(tf.less(tf.randomUniform([b, h, w, c], 0, 1, 'float32', this.stepSeed), gamma), 'float32');
      // Only centres where a whole block fits start a block.
      const lo = Math.floor(k / 2);
      const valid = tf.pad(tf.ones([1, h - k + 1, w - k + 1, 1]), [
        [0, 0],
        [lo, k - 1 - lo],
        [lo, k - 1 - lo],
        [0, 0],
      ]);
      const starts = tf.mul(seeds, valid) as tf.Tensor4D;
      const dropped = tf.maxPool(starts, k, 1, 'same'); // grow each seed into a k×k block
      const keep = tf.sub(1, dropped);
      const scale = tf.div(tf.scalar(keep.size), tf.maximum(tf.sum(keep), 1));
      return tf.mul(tf.mul(x, keep), scale);
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, blockSize: this.blockSize };
  }
}

/** Registers the layers for loading and maps them to plain Dropout (identity at inference) for exports. */
export function registerRegularizationLayers(): void {
  tf.serialization.registerClass(SpatialDropout2D);
  tf.serialization.registerClass(DropBlock2D);
  registerPlainEquivalent('SpatialDropout2D', 'Dropout');
  registerPlainEquivalent('DropBlock2D', 'Dropout');
}
