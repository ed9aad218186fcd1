// Sequence data: 1-D CNNs over time steps — a causal, dilated TCN and a plain Conv1D stack (libs/tasks/sequence).
import * as tf from '@tensorflow/tfjs';
import { generateWaves } from '@cv/data';
import { initBackend } from '@cv/engine';
import { createSequenceModel, defaultDilations, mnistSequences, SequencePredictor, tcnReceptiveField } from '@cv/tasks-sequence';

await initBackend({ log: false });
// Sequential MNIST: each digit read as 28 steps (rows) of 28 values, or 784 steps of one pixel.
const rows = mnistSequences('rows');
console.log(`${rows.description}: train ${rows.train.labels.length}, test ${rows.test.labels.length}, ${rows.train.steps} steps × ${rows.train.features}`);

// A TCN's dilations double until its receptive field covers the sequence.
for (const steps of [28, 784]) {
  const d = defaultDilations(steps, 3);
  console.log(`${steps} steps: dilations ${d.join(', ')} → receptive field ${tcnReceptiveField(3, d)}`);
}
const tcn = createSequenceModel('tcn', { steps: 28, features: 28, numClasses: 10, seed: 1 });
const conv = createSequenceModel('conv1d', { steps: 28, features: 28, numClasses: 10, seed: 1 });
console.log(`tcn: ${tcn.countParams()} parameters; conv1d: ${conv.countParams()} parameters`);

// Causal: changing the last 10 rows of an input leaves the first 18 steps' features unchanged.
const features = tf.model({ inputs: tcn.inputs[0], outputs: tcn.getLayer('b3_out').output as tf.SymbolicTensor });
const x = tf.tensor3d(rows.test.x.slice(0, 784), [1, 28, 28]);
const changed = tf.concat([tf.slice(x, [0, 0, 0], [1, 18, 28]), tf.zeros([1, 10, 28])], 1);
const diff = (a: tf.Tensor, b: tf.Tensor, from: number, n: number) =>
  tf.max(tf.abs(tf.sub(tf.slice(a, [0, from, 0], [1, n, -1]), tf.slice(b, [0, from, 0], [1, n, -1])))).dataSync()[0];
const [fa, fb] = [features.predict(x) as tf.Tensor, features.predict(changed) as tf.Tensor];
console.log(`max change of steps 0–17: ${diff(fa, fb, 0, 18)}; of steps 18–27: ${diff(fa, fb, 18, 10) > 0 ? '> 0' : '0'}`);

// Variable lengths: a Predictor pads and masks, so a series gets the same answer alone or beside a longer one.
const model = createSequenceModel('conv1d', { steps: null, features: 1, numClasses: 5, width: 8, seed: 2 });
model.setUserDefinedMetadata({ task: 'sequence', classNames: ['sine', 'square', 'sawtooth', 'triangle', 'chirp'], steps: null, features: 1 });
const predictor = new SequencePredictor(model);
const [short, long] = generateWaves(2, 5)
  .map((w) => w.values.map((v) => [v]))
  .sort((a, b) => a.length - b.length);
const alone = predictor.predict([short])[0];
const beside = predictor.predict([short, long])[0];
console.log(
  `lengths ${short.length} and ${long.length}: same answer alone and padded: ${alone.label === beside.label && Math.abs(alone.probability - beside.probability) < 1e-5}`,
);
