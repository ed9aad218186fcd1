import * as tf from '@tensorflow/tfjs';
import { deriveSeed, type InferenceModel, type Logs, OptimizationStep, type ParamGroup, Rng, shardRange, type StepContext, type TrainTask } from '@cv/engine';
import { cutmix, l2Penalty, mixup, smoothLabels } from '@cv/regularization';
import type { Batch, DataLoader } from '@cv/data';

export type { ParamGroup };

const EPS = 1e-7;

/** Mean categorical cross-entropy of softmax probabilities (clipped as Keras does). */
export function crossEntropy(yOneHot: tf.Tensor, probs: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(yOneHot, tf.log(tf.clipByValue(probs, EPS, 1 - EPS))), -1))) as tf.Scalar;
}

/** A loader batch as tensors: x [B, H, W, C] in 0..1, y [B] int32. */
export interface TensorBatch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

export const toTensors = (b: Batch): TensorBatch => ({ x: tf.tensor4d(b.x, b.shape), y: tf.tensor1d(b.y, 'int32') });

/** Class probabilities of a set of images, in batches; returns [N·K] scores (read back asynchronously: WebGPU has no synchronous read in Node). */
export async function predictProbs(model: InferenceModel, x: Float32Array, shape: [number, number, number], batchSize = 256): Promise<Float32Array> {
  const size = shape[0] * shape[1] * shape[2];
  const n = x.length / size;
  const k = (model.outputs[0].shape[1] as number) ?? 0;
  const out = new Float32Array(n * k);
  for (let i = 0; i < n; i += batchSize) {
    const m = Math.min(batchSize, n - i);
    const probs = tf.tidy(() => model.predict(tf.tensor4d(x.subarray(i * size, (i + m) * size), [m, ...shape])) as tf.Tensor);
    out.set(await probs.data(), i * k);
    probs.dispose();
  }
  return out;
}

export interface ClassificationTaskOptions {
  /** All optimizers of the run (checkpointed by name). Default: one Adam under 'optimizer'. */
  optimizers?: Record<string, tf.Optimizer>;
  /**
   * The groups active in an epoch; also the place to change `trainable` flags (called once at the start
   * of each epoch, so a resumed run sets the same state). Default: every trainable weight, 'optimizer'.
   */
  groupsForEpoch?: (epoch: number) => ParamGroup[];
  /** Step-level regularization (all off by default). */
  regularization?: StepRegularization;
  /** Seed of the per-step mixing draws. */
  seed?: number;
  /** Gradient clipping by global norm and accumulation over micro-batches (the engine's optimisation step). */
  clipNorm?: number;
  accumulate?: number;
}

export interface StepRegularization {
  labelSmoothing?: number;
  /** mixup α; with cutmix also set, each step picks one at random. */
  mixup?: number;
  cutmix?: number;
  /** L2 penalty coefficient (added to the loss). */
  l2?: number;
  /** Decoupled weight decay coefficient (applied after each optimizer step, scaled by its learning rate). */
  weightDecay?: number;
}

/**
 * Supervised classification as a Trainer task: cross-entropy on softmax outputs, one optimizer.
 *
 * @example
 * const task = new ClassificationTask(model, tf.train.adam(1e-3), trainLoader);
 * await new Trainer(task, { epochs: 5, runDir, seed: 0, validate: ... }).fit();
 */
export class ClassificationTask implements TrainTask<TensorBatch> {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  private groups: ParamGroup[];
  private readonly groupsForEpoch: (epoch: number) => ParamGroup[];
  private readonly reg: StepRegularization;
  private readonly seed: number;
  private readonly step: OptimizationStep;

  constructor(
    readonly model: tf.LayersModel,
    optimizer: tf.Optimizer,
    readonly train: DataLoader,
    options: ClassificationTaskOptions = {},
  ) {
    this.models = { model };
    this.optimizers = options.optimizers ?? { optimizer };
    this.groupsForEpoch = options.groupsForEpoch ?? (() => [{ optimizer: Object.keys(this.optimizers)[0], owns: () => true }]);
    this.groups = this.groupsForEpoch(0);
    this.reg = options.regularization ?? {};
    this.seed = options.seed ?? 0;
    this.step = new OptimizationStep({
      optimizers: this.optimizers,
      groups: () => this.groups,
      clipNorm: options.clipNorm,
      accumulate: options.accumulate,
      weightDecay: this.reg.weightDecay,
    });
  }

  /** mixup / CutMix of the batch for this step (deterministic in the run seed and step), else as is. */
  private mix(x: tf.Tensor4D, yOneHot: tf.Tensor2D, step: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
    const { mixup: ma = 0, cutmix: ca = 0 } = this.reg;
    if (!ma && !ca) return { x, y: yOneHot };
    const rng = new Rng(deriveSeed(this.seed, 'mix', step));
    const useCutmix = ca > 0 && (ma === 0 || rng.next() < 0.5);
    const mixed = useCutmix ? cutmix(x, yOneHot, ca, rng) : mixup(x, yOneHot, ma, rng);
    return { x: mixed.x, y: mixed.y };
  }

  get stepsPerEpoch(): number {
    return this.train.length;
  }

  async *batches(epoch: number, seed: number): AsyncIterable<TensorBatch> {
    this.groups = this.groupsForEpoch(epoch);
    for await (const b of this.train.batches(seed)) yield toTensors(b);
  }

  batchSize(batch: TensorBatch): number {
    return batch.x.shape[0];
  }

  disposeBatch(batch: TensorBatch): void {
    tf.dispose([batch.x, batch.y]);
  }

  /** Replica `rank`'s contiguous block of rows. */
  shard({ x, y }: TensorBatch, rank: number, worldSize: number): TensorBatch {
    const { start, size } = shardRange(x.shape[0], rank, worldSize);
    return { x: tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]), y: tf.slice(y, [start], [size]) };
  }

  async trainStep({ x, y }: TensorBatch, ctx: StepContext): Promise<Logs> {
    const numClasses = this.model.outputs[0].shape[1] as number;
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    let correct: tf.Tensor | null = null;
    const loss = tf.tidy(() => {
      const mixed = this.mix(x, tf.oneHot(y, numClasses) as tf.Tensor2D, ctx.globalStep);
      const target = smoothLabels(mixed.y, this.reg.labelSmoothing ?? 0);
      return this.step.run(
        () => {
          const probs = this.model.apply(mixed.x, { training: true }) as tf.Tensor; // [B, K]
          correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(probs, -1), y), 'float32')));
          const ce = crossEntropy(target, probs);
          return this.reg.l2 ? (tf.add(ce, l2Penalty(vars, this.reg.l2)) as tf.Scalar) : ce;
        },
        vars,
        ctx,
      );
    });
    // Read back after the step's kernels are queued (a GPU backend reads asynchronously only).
    const [l, c] = await Promise.all([loss.data(), correct!.data()]);
    tf.dispose([loss, correct!]);
    return { loss: l[0], accuracy: c[0] / x.shape[0] };
  }
}
