import * as tf from '@tensorflow/tfjs';
import { type BatchSource, LoaderTask, type LoaderTaskOptions, type Logs, Rng, shardRange, type StepContext } from '@cv/engine';
import { type SequenceSet, sequenceInputs, subsetSequences } from './sequences';

/** One batch: a SequenceSet of the batch's sequences. */
export type SequenceBatch = SequenceSet;

/** Shuffled batches of a SequenceSet (a seeded order per epoch; the last partial batch kept). */
export class SequenceLoader implements BatchSource<SequenceBatch> {
  constructor(
    readonly set: SequenceSet,
    readonly batchSize: number,
    readonly shuffle = true,
  ) {}

  get length(): number {
    return Math.ceil(this.set.labels.length / this.batchSize);
  }

  async *batches(seed: number): AsyncIterable<SequenceBatch> {
    const n = this.set.labels.length;
    const order = Array.from({ length: n }, (_, i) => i);
    if (this.shuffle) new Rng(seed).shuffle(order);
    for (let i = 0; i < n; i += this.batchSize) yield subsetSequences(this.set, order.slice(i, i + this.batchSize));
  }
}

/** Mean cross-entropy of softmax probabilities (clipped to [1e-7, 1 − 1e-7], as Keras). */
export function crossEntropy(probs: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, probs.shape[1]), tf.log(p)), 1))) as tf.Scalar;
  });
}

/**
 * Sequence classification as a Trainer task: padded, masked batches, cross-entropy, one optimisation step.
 *
 * @example
 * const task = new SequenceTask(model, tf.train.adam(2e-3), new SequenceLoader(train, 64));
 */
export class SequenceTask extends LoaderTask<SequenceBatch> {
  constructor(model: tf.LayersModel, optimizer: tf.Optimizer, loader: BatchSource<SequenceBatch>, options: LoaderTaskOptions<SequenceBatch> = {}) {
    super(model, optimizer, loader, options);
  }

  batchSize(batch: SequenceBatch): number {
    return batch.labels.length;
  }

  shard(batch: SequenceBatch, rank: number, worldSize: number): SequenceBatch {
    const { start, size } = shardRange(batch.labels.length, rank, worldSize);
    return subsetSequences(
      batch,
      Array.from({ length: size }, (_, i) => start + i),
    );
  }

  async trainStep(batch: SequenceBatch, ctx: StepContext): Promise<Logs> {
    const inputs = sequenceInputs(batch);
    const y = tf.tensor1d(batch.labels, 'int32');
    let acc!: tf.Tensor;
    const loss = this.step.run(
      () => {
        const probs = this.model.apply(inputs, { training: true }) as tf.Tensor2D;
        acc = tf.keep(tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(probs, 1), y), 'float32'))));
        return crossEntropy(probs, y);
      },
      this.trainableVars(),
      ctx,
    );
    // Read back after the step's kernels are queued (a GPU backend reads asynchronously only).
    const [l, a] = await Promise.all([loss.data(), acc.data()]);
    const logs: Logs = { loss: l[0], accuracy: a[0] };
    tf.dispose([...inputs, y, loss, acc]);
    return logs;
  }
}
