// Case study — classification: the shipped Fashion-MNIST model answering for test images it never saw.
import { loadFashionMnist } from '@cv/data';
import { initBackend, loadPredictor } from '@cv/engine';
import '@cv/tasks-classify/predict'; // registers the classify Predictor
import type { ClassificationPredictor } from '@cv/tasks-classify/predict';

await initBackend({ log: false });
const predictor = (await loadPredictor('models/classify/fashion-mnist')) as ClassificationPredictor;
const { test } = loadFashionMnist();
const images = [0, 1, 2, 3, 4, 5].map((i) => ({ data: test.images.subarray(i * 784, (i + 1) * 784), width: 28, height: 28, channels: 1 as const }));
predictor.predict(images).forEach((p, i) => {
  const truth = test.classNames[test.labels[i]];
  console.log(`test image ${i}: ${p.label.padEnd(11)} ${(100 * p.probability).toFixed(1).padStart(5)} %  (truth: ${truth})`);
});
