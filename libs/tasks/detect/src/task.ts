import * as tf from '@tensorflow/tfjs';
import type { SampleBatch, SampleLoader } from '@cv/data';
import { type Logs, OptimizationStep, shardRange, type StepContext, type TrainTask } from '@cv/engine';
import type { Anchors } from './boxes';
import { DEFAULT_GAINS, detectionLoss, type LossGains } from './loss';
import { REG_MAX } from './models';

export interface DetectionTaskOptions {
  anchors: Anchors;
  numClasses: number;
  /** Loader without mosaic and geometric augmentation for the last epochs (Ultralytics' close_mosaic). */
  plainLoader?: SampleLoader;
  /** The last this many planned epochs use `plainLoader`. */
  closeLast?: number;
  clipNorm?: number;
  accumulate?: number;
  weightDecay?: number;
  gains?: LossGains;
}

/**
 * YOLO-style detection as a Trainer task: batches of letterboxed images with padded boxes, the
 * task-aligned assigner and the BCE + CIoU + DFL loss, one optimisation step. Logs `loss`, `box`, `cls`, `dfl`.
 *
 * @example
 * const task = new DetectionTask(model, tf.train.adam(2e-3), loader, { anchors, numClasses: 3 });
 */
export class DetectionTask implements TrainTask<SampleBatch> {
  readonly models: Record<string, tf.LayersModel>;
  readonly optimizers: Record<string, tf.Optimizer>;
  private readonly step: OptimizationStep;

  constructor(
    readonly model: tf.LayersModel,
    optimizer: tf.Optimizer,
    readonly loader: SampleLoader,
    readonly options: DetectionTaskOptions,
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

  /** Replica `rank`'s contiguous block of images (and their padded targets). */
  shard(batch: SampleBatch, rank: number, worldSize: number): SampleBatch {
    const [b, h, w, c] = batch.shape;
    const { start, size } = shardRange(b, rank, worldSize);
    const m = batch.maxBoxes ?? 0;
    return {
      x: batch.x.subarray(start * h * w * c, (start + size) * h * w * c),
      shape: [size, h, w, c],
      boxes: batch.boxes?.subarray(start * m * 4, (start + size) * m * 4),
      boxClasses: batch.boxClasses?.subarray(start * m, (start + size) * m),
      boxCounts: batch.boxCounts?.subarray(start, start + size),
      maxBoxes: m,
    };
  }

  trainStep(batch: SampleBatch, ctx: StepContext): Logs {
    const { anchors, numClasses, gains = DEFAULT_GAINS } = this.options;
    const vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const x = tf.tensor4d(batch.x, batch.shape);
    const parts: tf.Scalar[] = [];
    const loss = this.step.run(
      () => {
        const raw = this.model.apply(x, { training: true }) as tf.Tensor3D;
        const l = detectionLoss(raw, batch, anchors, numClasses, REG_MAX, gains);
        parts.push(tf.keep(l.box), tf.keep(l.cls), tf.keep(l.dfl));
        return l.loss;
      },
      vars,
      ctx,
    );
    const [box, cls, dfl] = parts.map((p) => p.dataSync()[0]);
    const logs = { loss: loss.dataSync()[0], box, cls, dfl };
    tf.dispose([x, loss, ...parts]);
    return logs;
  }
}
