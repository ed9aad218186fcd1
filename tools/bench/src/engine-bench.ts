/**
 * Engine benchmark: training and inference throughput of the reference CNN (batch 64, 28×28×1, Adam)
 * on the current backend, with ms per step and peak RSS. `--json` prints one JSON object per row.
 *
 *   npx nx run bench:engine [-- --json] [--steps 30] [--batch 64]
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, parseArgs } from '@cv/engine';
import { createClassifier, crossEntropy } from '@cv/tasks-classify';
import { z } from 'zod';

const Schema = z.object({
  json: z.boolean().default(false).describe('print one JSON object per row'),
  steps: z.number().int().positive().default(30).describe('timed training steps per row'),
  batch: z.number().int().positive().default(64).describe('batch size'),
  warmup: z.number().int().min(0).default(3).describe('untimed warm-up steps'),
});

interface Row { name: string; backend: string; threads: number; trainImgPerSec: number; inferImgPerSec: number; msPerStep: number; peakRssMb: number }

let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

function benchModel(name: string, model: tf.LayersModel, inputShape: number[], classes: number, cfg: z.infer<typeof Schema>, backend: { name: string; threads: number }): Row {
  const optimizer: tf.Optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([cfg.batch, ...inputShape], 0, 1, 'float32', 1);
  const y = tf.oneHot(tf.randomUniform([cfg.batch], 0, classes, 'int32', 2), classes);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const step = () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), vars);
      optimizer.applyGradients(grads);
      return value;
    });
    loss.dataSync();
    loss.dispose();
    sampleRss();
  };
  for (let i = 0; i < cfg.warmup; i++) step();
  let t0 = performance.now();
  for (let i = 0; i < cfg.steps; i++) step();
  const msPerStep = (performance.now() - t0) / cfg.steps;
  const infer = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < cfg.warmup; i++) infer();
  const inferSteps = cfg.steps * 3;
  t0 = performance.now();
  for (let i = 0; i < inferSteps; i++) {
    infer();
    sampleRss();
  }
  const msPerInfer = (performance.now() - t0) / inferSteps;
  tf.dispose([x, y]);
  optimizer.dispose();
  return {
    name, backend: backend.name, threads: backend.threads,
    trainImgPerSec: (1000 * cfg.batch) / msPerStep,
    inferImgPerSec: (1000 * cfg.batch) / msPerInfer,
    msPerStep,
    peakRssMb: peakRss / 2 ** 20,
  };
}

async function main(): Promise<void> {
  const { config } = parseArgs(Schema, process.argv.slice(2).filter((a) => a !== '--'));
  const backend = await initBackend({ log: config.json ? (l) => console.error(l) : true });
  const model = createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
  const rows = [benchModel('reference-cnn', model, [28, 28, 1], 10, config, backend)];
  for (const r of rows) {
    if (config.json) console.log(JSON.stringify(r));
    else {
      console.log(`${r.name}: train ${r.trainImgPerSec.toFixed(0)} img/s (${r.msPerStep.toFixed(1)} ms/step, batch ${config.batch}), ` +
        `infer ${r.inferImgPerSec.toFixed(0)} img/s, peak RSS ${r.peakRssMb.toFixed(0)} MB [${r.backend}, ${r.threads} thread(s)]`);
    }
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
});
