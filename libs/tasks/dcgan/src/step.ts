import * as tf from '@tensorflow/tfjs';
import { deriveSeed, type Logs, OptimizationStep, shardRange, type StepContext, type TrainTask } from '@cv/engine';
import { conditionalClasses, generatorInputs, latentVectors } from './sampling';
import type { DataLoader } from '@cv/data';

/** A batch of real images in [-1, 1] and their class indices. */
export interface GanBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  /** For a replica's shard: its first row in the full batch, and the full batch size. */
  offset?: number;
  total?: number;
}

export interface GanTaskOptions {
  latentDim: number;
  /** Target for real images in the discriminator loss (1 = the paper; 0.9 = one-sided label smoothing). */
  realLabel?: number;
  /** Seed of the per-step latent draws. */
  seed: number;
  /** Gradient clipping by global norm (each network's own gradients; 0 = off). */
  clipNorm?: number;
}

/** softplus(−l) = −log σ(l) and softplus(l) = −log(1 − σ(l)): binary cross-entropy on logits, stable. */
export const bceReal = (logits: tf.Tensor, target: number) =>
  target === 1 ? tf.mean(tf.softplus(tf.neg(logits))) : tf.mean(tf.sub(tf.softplus(logits), tf.mul(logits, target)));
export const bceFake = (logits: tf.Tensor) => tf.mean(tf.softplus(logits));

/**
 * DCGAN training as a Trainer task: two models, two optimizers, alternating updates per step —
 * discriminator on real vs generated (generated images fixed), then generator with the non-saturating
 * loss −log D(G(z)); each update is the engine's optimisation step. Logs `d_loss`, `g_loss`,
 * `d_real` = mean D(x), `d_fake` = mean D(G(z)). An EMA of the generator is the job's `--ema`.
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
  private readonly gStep: OptimizationStep;
  private readonly dStep: OptimizationStep;

  constructor(
    readonly generator: tf.LayersModel,
    readonly discriminator: tf.LayersModel,
    generatorOptimizer: tf.Optimizer,
    discriminatorOptimizer: tf.Optimizer,
    readonly loader: DataLoader,
    readonly options: GanTaskOptions,
  ) {
    this.models = { generator, discriminator };
    this.optimizers = { generator: generatorOptimizer, discriminator: discriminatorOptimizer };
    this.gVars = generator.trainableWeights.map((w) => w.read() as tf.Variable);
    this.dVars = discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
    this.gStep = new OptimizationStep({ optimizers: { generator: generatorOptimizer }, clipNorm: options.clipNorm });
    this.dStep = new OptimizationStep({ optimizers: { discriminator: discriminatorOptimizer }, clipNorm: options.clipNorm });
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

  async trainStep({ x, y, offset = 0, total }: GanBatch, ctx: StepContext): Promise<Logs> {
    const b = x.shape[0];
    const { latentDim, realLabel = 1 } = this.options;
    // The whole batch's latent vectors from (seed, step); a replica takes the rows of its shard.
    const all = latentVectors(total ?? b, latentDim, deriveSeed(this.options.seed, 'z', ctx.globalStep));
    const z = tf.tensor2d(all.subarray(offset * latentDim, (offset + b) * latentDim), [b, latentDim]);
    let meanReal!: tf.Tensor;
    let meanFake!: tf.Tensor;
    const dLoss = tf.tidy(() => {
      const fake = this.generator.apply(generatorInputs(this.generator, z, y), { training: true }) as tf.Tensor;
      return this.dStep.run(
        () => {
          const real = this.discriminate(x, y);
          const faked = this.discriminate(fake, y);
          // Intermediates of the gradient scope are released with it: keep the two diagnostics.
          meanReal = tf.keep(tf.mean(tf.sigmoid(real)));
          meanFake = tf.keep(tf.mean(tf.sigmoid(faked)));
          return tf.add(bceReal(real, realLabel), bceFake(faked)) as tf.Scalar;
        },
        this.dVars,
        ctx,
      );
    });
    const gLoss = this.gStep.run(
      () => {
        const fake = this.generator.apply(generatorInputs(this.generator, z, y), { training: true }) as tf.Tensor;
        return bceReal(this.discriminate(fake, y), 1) as tf.Scalar;
      },
      this.gVars,
      ctx,
    );
    // Read back after both steps' kernels are queued (a GPU backend reads asynchronously only).
    const [d_loss, g_loss, d_real, d_fake] = await Promise.all([dLoss, gLoss, meanReal, meanFake].map(async (t) => (await t.data())[0]));
    const logs = { d_loss, g_loss, d_real, d_fake };
    tf.dispose([z, dLoss, gLoss, meanReal, meanFake]);
    return logs;
  }
}
