/**
 * `@cv/tasks-classify/predict` runs in a browser: bundled for the browser platform (no Node-only import
 * in its graph) and run in a bare V8 context, `loadPredictor` picks the classifier Predictor from the
 * model's metadata (custom regularization layers included) and answers for an RGBA image of another size,
 * as the Node side does for the same weights.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { bundleForBrowser, runInBareContext } from '@cv/engine/testing';
import { SpatialDropout2D } from '@cv/regularization';
import { ClassificationPredictor } from './predictor';

const here = path.dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initBackend({ log: false });
});

it('the classify predict entry bundles for the browser and predicts there as in Node', async () => {
  const input = tf.input({ shape: [8, 8, 1] });
  let x = tf.layers
    .conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) })
    .apply(input) as tf.SymbolicTensor;
  x = new SpatialDropout2D({ rate: 0.2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  model.setUserDefinedMetadata({ task: 'classify', classNames: ['a', 'b', 'c'], inputShape: [8, 8, 1] });
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const weights = Array.from(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts!.weightData!)));
  const image = { data: Array.from({ length: 12 * 20 * 4 }, (_, i) => (i * 37) % 256), width: 20, height: 12, channels: 4 as const };
  const code = await bundleForBrowser(
    `
    import * as tf from '@tensorflow/tfjs';
    import { loadPredictor } from '@cv/engine/core';
    import './predict';
    globalThis.__done = (async () => {
      await tf.setBackend('cpu');
      const predictor = await loadPredictor(tf.io.fromMemory({ ...JSON.parse(globalThis.artifacts), weightData: new Uint8Array(globalThis.weights).buffer }));
      const img = { ...globalThis.image, data: Uint8Array.from(globalThis.image.data) };
      globalThis.task = predictor.task;
      globalThis.prediction = JSON.parse(JSON.stringify(predictor.predict([img], 3)[0]));
    })();`,
    here,
  );
  const ctx = await runInBareContext(code, { artifacts: JSON.stringify({ ...artifacts!, weightData: undefined }), weights, image });
  expect(ctx.task).toBe('classify');
  const browser = ctx.prediction as ReturnType<ClassificationPredictor['predict']>[number];
  const node = new ClassificationPredictor(model).predict([{ ...image, data: Uint8Array.from(image.data) }], 3)[0];
  expect(browser.topK.map((t) => t.label)).toEqual(node.topK.map((t) => t.label));
  browser.topK.forEach((t, i) => expect(t.probability).toBeCloseTo(node.topK[i].probability, 4));
});
