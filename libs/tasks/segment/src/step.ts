import * as tf from '@tensorflow/tfjs';
import { type SampleBatch, SampleBatchTask } from '@cv/data';
import { type BatchSource, type LoaderTaskOptions, type Logs, type StepContext } from '@cv/engine';
import { type LossSpec, segmentationLoss } from './losses';

export interface SegmentationTaskOptions extends LoaderTaskOptions<SampleBatch> {
  loss: LossSpec;
}

/**
 * Semantic segmentation as a Trainer task: batches of images with class masks (ignored pixels = 255), the
 * configured loss sum on the logits, one optimisation step. Logs `loss` and each term (`ce`, `dice`, ...).
 *
 * @example
 * const task = new SegmentationTask(model, tf.train.adam(2e-3), loader, { loss: { terms: parseLoss('ce+dice') } });
 */
export class SegmentationTask extends SampleBatchTask {
  constructor(
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    loader: BatchSource<SampleBatch>,
    readonly options: SegmentationTaskOptions,
  ) {
    super(model, optimizer, loader, options);
  }

  async trainStep(batch: SampleBatch, ctx: StepContext): Promise<Logs> {
    const [b, h, w] = batch.shape;
    if (!batch.masks) throw new Error('segmentation batch without masks');
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
      this.trainableVars(),
      ctx,
    );
    // Read back after the step's kernels are queued (a GPU backend reads asynchronously only).
    const names = Object.keys(parts);
    const values = await Promise.all([loss, ...names.map((k) => parts[k])].map(async (t) => (await t.data())[0]));
    const logs: Logs = { loss: values[0] };
    names.forEach((k, i) => (logs[k] = values[i + 1]));
    tf.dispose([x, y, loss, ...Object.values(parts)]);
    return logs;
  }
}
