// Training: the Trainer drives a task (models, optimizers, batches, a step) with Keras-style callbacks,
// checkpoints every epoch and resumes exactly where it stopped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { CosineDecay, EarlyStopping, initBackend, type Logs, MetricsLogger, ModelCheckpoint, readHistory, Rng, type TrainTask, Trainer } from '@cv/engine';

type Batch = { x: tf.Tensor4D; y: tf.Tensor2D };

/** A task: 16 batches of 8 random 6×6 images per epoch; the class is whether the top half is brighter. */
class BrighterTopTask implements TrainTask<Batch> {
  stepsPerEpoch = 16;
  models = {
    model: tf.sequential({
      layers: [
        tf.layers.conv2d({
          inputShape: [6, 6, 1],
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
        }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    }),
  };
  optimizers = { adam: tf.train.adam(0.02) };
  async *batches(_epoch: number, seed: number): AsyncIterable<Batch> {
    const rng = new Rng(seed); // the Trainer derives each epoch's seed from the run's: a resumed run replays the same data
    for (let b = 0; b < this.stepsPerEpoch; b++) {
      const x = Float32Array.from({ length: 8 * 36 }, () => rng.next());
      const y = new Float32Array(16);
      for (let i = 0; i < 8; i++) {
        const top = x.slice(i * 36, i * 36 + 18).reduce((s, v) => s + v, 0) - x.slice(i * 36 + 18, i * 36 + 36).reduce((s, v) => s + v, 0);
        y[i * 2 + (top > 0 ? 1 : 0)] = 1;
      }
      yield { x: tf.tensor4d(x, [8, 6, 6, 1]), y: tf.tensor2d(y, [8, 2]) };
    }
  }
  batchSize(b: Batch) {
    return b.x.shape[0];
  }
  disposeBatch(b: Batch) {
    tf.dispose([b.x, b.y]);
  }
  trainStep({ x, y }: Batch): Logs {
    const model = this.models.model;
    const loss = this.optimizers.adam.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, true)!;
    const value = loss.dataSync()[0];
    loss.dispose();
    return { loss: value };
  }
}

await initBackend({ log: false });
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guide-train-'));
const log = (line: string) => console.log(line.replace(runDir, '<run>'));
const callbacks = () => [
  new CosineDecay({ baseLr: 0.02, totalSteps: 6 * 16, warmupSteps: 4 }),
  new EarlyStopping({ monitor: 'loss', patience: 3 }),
  new MetricsLogger({ dir: runDir }),
  new ModelCheckpoint({ dir: path.join(runDir, 'checkpoints'), monitor: 'loss' }),
];
const first = await new Trainer(new BrighterTopTask(), { epochs: 3, runDir, seed: 0, callbacks: callbacks(), log }).fit();
console.log(`trained ${first.epochsDone} epochs; checkpoints: ${fs.readdirSync(path.join(runDir, 'checkpoints')).sort().join(', ')}`);
// Resume: a new Trainer on the same run folder continues from checkpoints/last to 6 epochs.
const resumed = await new Trainer(new BrighterTopTask(), { epochs: 6, runDir, seed: 0, callbacks: callbacks(), resume: true, log }).fit();
console.log(`resumed to ${resumed.epochsDone} epochs`);
for (const row of readHistory(runDir)) console.log(`epoch ${row.epoch}: loss ${row.loss.toFixed(3)}  lr ${row.lr.toExponential(2)}`);
