/** Test fixtures shared by the engine's specs: a tiny conv net and a task with scripted validation. */
import * as tf from '@tensorflow/tfjs';
import type { Logs } from '../train/callbacks';
import { SeededDropout } from '../infer/layers';
import { Rng } from '../infer/rng';
import type { StepContext, TrainTask } from '../train/types';

export interface XY {
  x: tf.Tensor4D;
  y: tf.Tensor2D;
}

/** A tiny conv net with BN and dropout: every stateful piece a resume must restore. */
export function tinyModel(seed: number): tf.LayersModel {
  const rng = new Rng(seed);
  const init = () => tf.initializers.glorotUniform({ seed: rng.seed() });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init() }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.batchNormalization(),
      new SeededDropout({ rate: 0.3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: init() }),
    ],
  });
}

/** 4 batches of 8 random images per epoch; class = whether the top half is brighter. */
export class TinyTask implements TrainTask<XY> {
  models: Record<string, tf.LayersModel>;
  optimizers: Record<string, tf.Optimizer>;
  stepsPerEpoch = 4;
  lossOverride: number | null = null;
  constructor(seed = 1) {
    this.models = { model: tinyModel(seed) };
    this.optimizers = { adam: tf.train.adam(0.01) };
  }
  async *batches(_epoch: number, seed: number): AsyncIterable<XY> {
    const rng = new Rng(seed);
    for (let b = 0; b < this.stepsPerEpoch; b++) {
      const x = Float32Array.from({ length: 8 * 36 }, () => rng.next());
      const y = new Float32Array(16);
      for (let i = 0; i < 8; i++) {
        let top = 0;
        for (let j = 0; j < 18; j++) top += x[i * 36 + j] - x[i * 36 + 18 + j];
        y[i * 2 + (top > 0 ? 1 : 0)] = 1;
      }
      yield { x: tf.tensor4d(x, [8, 6, 6, 1]), y: tf.tensor2d(y, [8, 2]) };
    }
  }
  /** Replica `rank`'s contiguous block of rows. */
  shard({ x, y }: XY, rank: number, worldSize: number): XY {
    const n = x.shape[0];
    const start = Math.floor((rank * n) / worldSize);
    const size = Math.floor(((rank + 1) * n) / worldSize) - start;
    return { x: tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]), y: tf.slice(y, [start, 0], [size, -1]) };
  }
  batchSize(b: XY) {
    return b.x.shape[0];
  }
  disposeBatch(b: XY) {
    tf.dispose([b.x, b.y]);
  }
  trainStep({ x, y }: XY, ctx: StepContext): Logs {
    const model = this.models.model;
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      );
      this.optimizers.adam.applyGradients(ctx.reduceGradients(grads));
      return value;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return { loss: this.lossOverride ?? value };
  }
  async validate(epoch: number): Promise<Logs> {
    // A scripted val_loss so that callbacks' decisions are known in advance.
    return { val_loss: [1, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0][epoch] ?? 2 };
  }
}
