import * as tf from '@tensorflow/tfjs';
import { type SampleBatch, SampleBatchTask } from '@cv/data';
import { type BatchSource, type LoaderTaskOptions, type Logs, type StepContext } from '@cv/engine';
import type { Anchors } from './boxes';
import { DEFAULT_GAINS, detectionLoss, type LossGains } from './loss';
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
 * const task = new DetectionTask(model, tf.train.adam(2e-3), loader, { anchors, numClasses: 3 });
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

  trainStep(batch: SampleBatch, ctx: StepContext): Logs {
    const { anchors, numClasses, gains = DEFAULT_GAINS } = this.options;
    const vars = this.trainableVars();
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
