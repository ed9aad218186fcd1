import * as tf from '@tensorflow/tfjs';
import type { SampleBatch, SampleLoader } from '@cv/data';
import { type Logs, OptimizationStep, shardRange, type StepContext, type TrainTask } from '@cv/engine';
import { type LossSpec, segmentationLoss } from './losses';

export interface SegmentationTaskOptions {
  loss: LossSpec;
  /** Loader without geometric augmentation for the last `closeLast` planned epochs. */
  plainLoader?: SampleLoader;
  closeLast?: number;
  clipNorm?: number;
  accumulate?: number;
  weightDecay?: number;
}

/**
 * Semantic segmentation as a Trainer task: batches of images with class masks (ignored pixels = 255), the
 * configured loss sum on the logits, one optimisation step. Logs `loss` and each term (`ce`, `dice`, ...).
 *
 * @example
 * const task = new SegmentationTask(model, tf.train.adam(2e-3), loader, { loss: { terms: parseLoss('ce+dice') } });
 */
export class SegmentationTask implements TrainTask<SampleBatch> {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  private readonly step: OptimizationStep;

  constructor(
    readonly model: tf.LayersModel,
    optimizer: tf.Optimizer,
    readonly loader: SampleLoader,
    readonly options: SegmentationTaskOptions,
  ) {
    this.models = { model };
    this.optimizers = { optimizer };
    this.step = new OptimizationStep({
      optimizers: this.optimizers,
      clipNorm: options.clipNorm,
      accumulate: options.accumulate,
      weightDecay: options.weightDecay,
    });
  }

  get stepsPerEpoch(): number {
    return this.loader.length;
  }

  batches(epoch: number, seed: number, epochs: number): AsyncIterable<SampleBatch> {
    const { plainLoader, closeLast = 0 } = this.options;
    return (plainLoader && epoch >= epochs - closeLast ? plainLoader : this.loader).batches(seed);
  }

  batchSize(batch: SampleBatch): number {
    return batch.shape[0];
  }

  shard(batch: SampleBatch, rank: number, worldSize: number): SampleBatch {
    const [b, h, w, c] = batch.shape;
    const { start, size } = shardRange(b, rank, worldSize);
    return {
      x: batch.x.subarray(start * h * w * c, (start + size) * h * w * c),
      shape: [size, h, w, c],
      masks: batch.masks?.subarray(start * h * w, (start + size) * h * w),
    };
  }

  trainStep(batch: SampleBatch, ctx: StepContext): Logs {
    const [b, h, w] = batch.shape;
    if (!batch.masks) throw new Error('segmentation batch without masks');
    const vars = this.model.trainableWeights.map((v) => v.read() as tf.Variable);
    const x = tf.tensor4d(batch.x, batch.shape);
    const y = tf.tensor3d(Int32Array.from(batch.masks), [b, h, w], 'int32');
    let parts: Record<string, tf.Scalar> = {};
    const loss = this.step.run(
      () => {
        const logits = this.model.apply(x, { training: true }) as tf.Tensor4D;
        const l = segmentationLoss(logits, y, this.options.loss);
        parts = l.parts;
        return l.loss;
      },
      vars,
      ctx,
    );
    const logs: Logs = { loss: loss.dataSync()[0] };
    for (const [k, v] of Object.entries(parts)) logs[k] = v.dataSync()[0];
    tf.dispose([x, y, loss, ...Object.values(parts)]);
    return logs;
  }
}
