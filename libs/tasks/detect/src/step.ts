import * as tf from '@tensorflow/tfjs';
import { type SampleBatch, SampleBatchTask } from '@cv/data';
import { type BatchSource, type LoaderTaskOptions, type Logs, readsBackSync, type StepContext } from '@cv/engine';
import type { Anchors } from './boxes';
import { DEFAULT_GAINS, detectionLoss, type LossGains, type PredictedValues, predictionTensors } from './loss';
import { REG_MAX } from './models';

export interface DetectionTaskOptions extends LoaderTaskOptions<SampleBatch> {
  anchors: Anchors;
  numClasses: number;
  gains?: LossGains;
}

/**
 * YOLO-style detection as a Trainer task: batches of letterboxed images with padded boxes, the
 * task-aligned assigner and the BCE + CIoU + DFL loss, one optimisation step. Logs `loss`, `box`, `cls`, `dfl`.
 *
 * @example
 * const task = new DetectionTask(model, tf.train.adam(4e-3), loader, { anchors, numClasses: 3 });
 */
export class DetectionTask extends SampleBatchTask {
  constructor(
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    loader: BatchSource<SampleBatch>,
    readonly options: DetectionTaskOptions,
  ) {
    super(model, optimizer, loader, options);
  }

  async trainStep(batch: SampleBatch, ctx: StepContext): Promise<Logs> {
    const { anchors, numClasses, gains = DEFAULT_GAINS } = this.options;
    const vars = this.trainableVars();
    const x = tf.tensor4d(batch.x, batch.shape);
    // A GPU backend cannot read the predictions back inside the gradient scope (the assigner needs their values):
    // there a forward pass without gradients comes first and its values are read back asynchronously.
    const predicted = readsBackSync() ? undefined : await this.predictedValues(x);
    const parts: tf.Scalar[] = [];
    const loss = this.step.run(
      () => {
        const raw = this.model.apply(x, { training: true }) as tf.Tensor3D;
        const l = detectionLoss(raw, batch, anchors, numClasses, REG_MAX, gains, {}, predicted);
        parts.push(tf.keep(l.box), tf.keep(l.cls), tf.keep(l.dfl));
        return l.loss;
      },
      vars,
      ctx,
    );
    const [l, box, cls, dfl] = await Promise.all([loss, ...parts].map(async (t) => (await t.data())[0]));
    tf.dispose([x, loss, ...parts]);
    return { loss: l, box, cls, dfl };
  }

  /**
   * The values the assigner reads, from a training-mode forward pass without gradients (batch statistics, as
   * the step's own pass has: the same values). BatchNorm's moving statistics, which a training-mode pass
   * updates, are put back, so the step updates them once.
   */
  private async predictedValues(x: tf.Tensor4D): Promise<PredictedValues> {
    const { anchors, numClasses } = this.options;
    const moving = this.model.weights.filter((w) => /moving_(mean|variance)/.test(w.name));
    const saved = moving.map((w) => tf.clone(w.read()));
    const { scores, boxes } = tf.tidy(() => predictionTensors(this.model.apply(x, { training: true }) as tf.Tensor3D, anchors, numClasses, REG_MAX));
    moving.forEach((w, i) => w.write(saved[i]));
    try {
      const [s, b] = await Promise.all([scores.data(), boxes.data()]);
      return { scores: s as Float32Array, boxes: b as Float32Array };
    } finally {
      tf.dispose([scores, boxes, ...saved]);
    }
  }
}
