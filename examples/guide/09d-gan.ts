// Case study — GAN: the shipped DCGAN draws digits; the shipped MNIST classifier reads them.
import { initBackend, loadPredictor } from '@cv/engine';
import '@cv/tasks-classify/predict'; // registers the classify Predictor
import type { ClassificationPredictor } from '@cv/tasks-classify/predict';
import '@cv/tasks-dcgan/predict';
import type { GanPredictor } from '@cv/tasks-dcgan/predict';

await initBackend({ log: false });
const gan = (await loadPredictor('models/dcgan/mnist')) as GanPredictor;
const reader = (await loadPredictor('models/classify/mnist')) as ClassificationPredictor;
const { images, shape } = gan.sample({ n: 8, seed: 1 });
const [h, w] = shape;
const digits = Array.from({ length: 8 }, (_, i) => ({
  data: Uint8Array.from(images.subarray(i * h * w, (i + 1) * h * w), (v) => Math.round(v * 255)),
  width: w,
  height: h,
  channels: 1 as const,
}));
const read = reader.predict(digits);
console.log('the classifier reads the 8 samples of seed 1 as:', read.map((p) => p.label).join(' '));
console.log('confidence:', read.map((p) => p.probability.toFixed(2)).join(' '));
// An ASCII view of the first sample.
for (let y = 0; y < h; y += 2)
  console.log('  ' + Array.from({ length: w }, (_, x) => (images[y * w + x] > 0.5 ? '#' : images[y * w + x] > 0.2 ? '+' : ' ')).join(''));
