/**
 * Milliseconds per update of the weight average (`ModelEma`, `--ema`) of a detector: through the one-kernel
 * `CvEmaUpdate` and, with it unregistered, through the composed Multiply / Multiply / Add per weight.
 *
 *   npx tsx tools/bench/src/ema-bench.ts [yolo-t|yolo-n|yolo-s] [--updates 40]
 */
import * as tf from '@tensorflow/tfjs';
import { cloneModel, initBackend, ModelEma } from '@cv/engine';
import { createDetector } from '@cv/tasks-detect';

const name = process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 'yolo-t';
const at = process.argv.indexOf('--updates');
const updates = at > 0 ? Number(process.argv[at + 1]) : 40;
await initBackend({ log: false });
const model = createDetector(name, { imgsz: [160, 160], numClasses: 3, seed: 0 });
const ema = new ModelEma(model, await cloneModel(model), { decay: 0.9995, tau: 1000 });
const params = model.countParams();
const time = (label: string) => {
  for (let i = 0; i < 5; i++) ema.update(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < updates; i++) ema.update();
  console.log(
    `${name} (${model.weights.length} weights, ${params.toLocaleString('en')} values), ${label}: ${((performance.now() - t0) / updates).toFixed(2)} ms per update`,
  );
};
if (tf.getKernel('CvEmaUpdate', tf.getBackend())) {
  time('CvEmaUpdate');
  tf.unregisterKernel('CvEmaUpdate', tf.getBackend());
}
time('composed (Multiply, Multiply, Add per weight)');
