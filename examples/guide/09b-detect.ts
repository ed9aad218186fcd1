// Case study — detection: the shipped shapes detector on a freshly generated image (seed 11, never trained on).
import { makeShapesImage, SHAPE_CLASSES } from '@cv/data';
import { initBackend, loadPredictor } from '@cv/engine';
import '@cv/tasks-detect/predict'; // registers the detect Predictor
import type { DetectionPredictor } from '@cv/tasks-detect/predict';

await initBackend({ log: false });
const detector = (await loadPredictor('models/detect/shapes')) as DetectionPredictor;
const image = makeShapesImage(11, 0);
const [found] = detector.predict([{ data: image.pixels, width: 160, height: 160, channels: 3 }], { conf: 0.5 });
console.log('truth:');
for (const o of image.objects) console.log(`  ${SHAPE_CLASSES[o.categoryId - 1].padEnd(8)} box ${o.bbox.map((v) => v.toFixed(0)).join(', ')} (x, y, w, h)`);
console.log('detected (conf ≥ 0.5):');
for (const d of found) {
  const [x1, y1, x2, y2] = d.box;
  console.log(`  ${d.label.padEnd(8)} box ${[x1, y1, x2 - x1, y2 - y1].map((v) => v.toFixed(0)).join(', ')}  score ${d.score.toFixed(2)}`);
}
