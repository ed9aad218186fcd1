import * as tf from '@tensorflow/tfjs';
import { deriveSeed, type Logs, Rng, shardRange, type StepContext, type TrainTask } from '@cv/engine';
import type { DataLoader } from '@cv/data';

/** A batch of real images in [-1, 1] and their class indices. */
export interface GanBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** For a replica's shard: its first row in the full batch, and the full batch size. */
  offset?: number;
  total?: number;
}

/** `n` standard-normal latent vectors, drawn from `seed` alone (the same on every backend and resume). */
export function latentVectors(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/**
 * The generator's inputs: z, plus the one-hot label for a class-conditional model.
 *
 * @example
 * const images = generator.predict(generatorInputs(generator, z, labels)) as tf.Tensor4D;
 */
export function generatorInputs(generator: tf.LayersModel, z: tf.Tensor2D, labels?: tf.Tensor1D): tf.Tensor[] {
  const numClasses = conditionalClasses(generator);
  if (!numClasses) return [z];
  if (!labels) throw new Error('a class-conditional generator needs labels');
  return [z, tf.oneHot(labels, numClasses).toFloat()];
}

/** Number of classes of a class-conditional generator or discriminator (0 when unconditional). */
export function conditionalClasses(model: tf.LayersModel): number {
  return model.inputs.length > 1 ? (model.inputs[1].shape[1] as number) : 0;
}

export interface GanTaskOptions {
  latentDim: number;
  /** Target for real images in the discriminator loss (1 = the paper; 0.9 = one-sided label smoothing). */
  realLabel?: number;
  /** Seed of the per-step latent draws. */
  seed: number;
  /** Scores after each epoch (e.g. FID, confidence), merged into the epoch's logs. */
  evaluate?: (generator: tf.LayersModel, epoch: number) => Promise<Logs> | Logs;
  /**
   * An exponential moving average of the generator's weights (`ema ← d·ema + (1 − d)·G` after every
   * generator step; BatchNorm statistics copied): a second generator of the same architecture, checkpointed
   * as 'generator_ema' and used for samples and scores. Off when absent.
   */
  ema?: { model: tf.LayersModel; decay: number };
}

/** softplus(−l) = −log σ(l) and softplus(l) = −log(1 − σ(l)): binary cross-entropy on logits, stable. */
const bceReal = (logits: tf.Tensor, target: number) =>
  target === 1 ? tf.mean(tf.softplus(tf.neg(logits))) : tf.mean(tf.sub(tf.softplus(logits), tf.mul(logits, target)));
const bceFake = (logits: tf.Tensor) => tf.mean(tf.softplus(logits));

/**
 * DCGAN training as a Trainer task: two models, two optimizers, alternating updates per step —
 * discriminator on real vs generated (generated images fixed), then generator with the non-saturating
 * loss −log D(G(z)). Logs `d_loss`, `g_loss`, `d_real` = mean D(x), `d_fake` = mean D(G(z)).
 *
 * @example
 * const task = new GanTask(generator, discriminator, optG, optD, loader, { latentDim: 100, seed: 0 });
 * await new Trainer(task, { epochs: 20, runDir, seed: 0 }).fit();
 */
export class GanTask implements TrainTask<GanBatch> {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  /** Per generator weight: averaged (trainable) or copied (BatchNorm statistics) into the EMA generator. */
  private readonly averaged: boolean[];

  constructor(
    readonly generator: tf.LayersModel,
    readonly discriminator: tf.LayersModel,
    generatorOptimizer: tf.Optimizer,
    discriminatorOptimizer: tf.Optimizer,
    readonly loader: DataLoader,
    readonly options: GanTaskOptions,
  ) {
    this.models = { generator, discriminator, ...(options.ema ? { generator_ema: options.ema.model } : {}) };
    this.optimizers = { generator: generatorOptimizer, discriminator: discriminatorOptimizer };
    this.gVars = generator.trainableWeights.map((w) => w.read() as tf.Variable);
    this.dVars = discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
    this.averaged = generator.weights.map((w) => w.trainable);
    if (options.ema) options.ema.model.setWeights(generator.getWeights()); // starts as a copy (a resume overwrites it)
  }

  /** The generator that samples and is scored: the EMA one when there is one. */
  get sampler(): tf.LayersModel {
    return this.options.ema?.model ?? this.generator;
  }

  private updateEma(): void {
    const ema = this.options.ema;
    if (!ema) return;
    tf.tidy(() => {
      this.generator.weights.forEach((w, i) => {
        const target = ema.model.weights[i].read() as tf.Variable;
        const value = w.read();
        target.assign(this.averaged[i] ? tf.add(tf.mul(target, ema.decay), tf.mul(value, 1 - ema.decay)) : value);
      });
    });
  }

  get stepsPerEpoch(): number {
    return this.loader.length;
  }

  async *batches(_epoch: number, seed: number): AsyncIterable<GanBatch> {
    for await (const b of this.loader.batches(seed)) {
      yield tf.tidy(() => ({ x: tf.sub(tf.mul(tf.tensor4d(b.x, b.shape), 2), 1) as tf.Tensor4D, y: tf.tensor1d(b.y, 'int32') }));
    }
  }

  batchSize(batch: GanBatch): number {
    return batch.x.shape[0];
  }

  disposeBatch(batch: GanBatch): void {
    tf.dispose([batch.x, batch.y]);
  }

  async validate(epoch: number): Promise<Logs> {
    return this.options.evaluate ? this.options.evaluate(this.sampler, epoch) : {};
  }

  /** Replica `rank`'s contiguous block of rows. */
  shard(batch: GanBatch, rank: number, worldSize: number): GanBatch {
    const total = batch.x.shape[0];
    const { start, size } = shardRange(total, rank, worldSize);
    return { x: tf.slice(batch.x, [start, 0, 0, 0], [size, -1, -1, -1]), y: tf.slice(batch.y, [start], [size]), offset: start, total };
  }

  private discriminate(images: tf.Tensor, labels: tf.Tensor1D): tf.Tensor {
    const k = conditionalClasses(this.discriminator);
    const inputs = k ? [images, tf.oneHot(labels, k).toFloat()] : [images];
    return this.discriminator.apply(inputs, { training: true }) as tf.Tensor; // [B, 1] logits
  }

  trainStep({ x, y, offset = 0, total }: GanBatch, ctx: StepContext): Logs {
    const b = x.shape[0];
    const { latentDim, realLabel = 1 } = this.options;
    // The whole batch's latent vectors from (seed, step); a replica takes the rows of its shard.
    const all = latentVectors(total ?? b, latentDim, deriveSeed(this.options.seed, 'z', ctx.globalStep));
    const z = tf.tensor2d(all.subarray(offset * latentDim, (offset + b) * latentDim), [b, latentDim]);
    const [dLoss, dReal, dFake] = tf.tidy(() => {
      const fake = this.generator.apply(generatorInputs(this.generator, z, y), { training: true }) as tf.Tensor;
      let meanReal!: tf.Tensor;
      let meanFake!: tf.Tensor;
      const { value, grads } = tf.variableGrads(() => {
        const real = this.discriminate(x, y);
        const faked = this.discriminate(fake, y);
        // Intermediates of the gradient scope are released with it: keep the two diagnostics.
        meanReal = tf.keep(tf.mean(tf.sigmoid(real)));
        meanFake = tf.keep(tf.mean(tf.sigmoid(faked)));
        return tf.add(bceReal(real, realLabel), bceFake(faked)) as tf.Scalar;
      }, this.dVars);
      this.optimizers.discriminator.applyGradients(ctx.reduceGradients(grads));
      return [value, meanReal, meanFake];
    });
    const gLoss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const fake = this.generator.apply(generatorInputs(this.generator, z, y), { training: true }) as tf.Tensor;
        return bceReal(this.discriminate(fake, y), 1) as tf.Scalar;
      }, this.gVars);
      this.optimizers.generator.applyGradients(ctx.reduceGradients(grads));
      return value;
    });
    this.updateEma();
    const logs = { d_loss: dLoss.dataSync()[0], g_loss: gLoss.dataSync()[0], d_real: dReal.dataSync()[0], d_fake: dFake.dataSync()[0] };
    tf.dispose([z, dLoss, gLoss, dReal, dFake]);
    return logs;
  }
}

/**
 * Generates images in [0, 1] (HWC floats, image after image) from given latent vectors, in batches, with
 * the generator in inference mode (BatchNorm moving statistics).
 */
export function generateImages(generator: tf.LayersModel, z: Float32Array, labels?: Int32Array, batchSize = 250): Float32Array {
  const latentDim = generator.inputs[0].shape[1] as number;
  const n = z.length / latentDim;
  const [h, w, c] = generator.outputs[0].shape.slice(1) as number[];
  const size = h * w * c;
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i += batchSize) {
    const m = Math.min(batchSize, n - i);
    const images = tf.tidy(() => {
      const zb = tf.tensor2d(z.subarray(i * latentDim, (i + m) * latentDim), [m, latentDim]);
      const lb = labels ? tf.tensor1d(labels.subarray(i, i + m), 'int32') : undefined;
      const g = generator.predict(generatorInputs(generator, zb, lb)) as tf.Tensor;
      return tf.clipByValue(tf.div(tf.add(g, 1), 2), 0, 1);
    });
    out.set(images.dataSync(), i * size);
    images.dispose();
  }
  return out;
}
