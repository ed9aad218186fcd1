/**
 * `@cv/engine/core` runs in a browser: bundled for the browser platform with no Node-only import in its
 * graph, then run in a bare V8 context: preprocessing, the Predictor registry and a model loaded from
 * an in-memory tfjs IO handler.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { expect, it } from 'vitest';
import { bundleForBrowser, runInBareContext } from './testing/browser';

const here = path.dirname(fileURLToPath(import.meta.url));

it('the engine core entry bundles for the browser and runs without Node APIs', async () => {
  const code = await bundleForBrowser(
    `
    import * as tf from '@tensorflow/tfjs';
    import { prepareInput, loadPredictor, registerPredictor, letterbox, unletterboxBoxes } from './core';
    globalThis.__done = (async () => {
      await tf.setBackend('cpu');
      const { x } = prepareInput([{ data: new Uint8Array([0, 255, 255, 0]), width: 2, height: 2, channels: 1 }], { shape: [4, 4, 1] });
      globalThis.shape = x.shape;
      globalThis.range = [x.min().dataSync()[0], x.max().dataSync()[0]];
      const lb = letterbox(tf.zeros([10, 20, 3]), [32, 32]);
      globalThis.box = Array.from(unletterboxBoxes([0, 8, 32, 24], lb.transform));
      const input = tf.input({ shape: [4] });
      const model = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) });
      model.setUserDefinedMetadata({ task: 'toy' });
      let artifacts;
      await model.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
      registerPredictor('toy', (m) => ({ task: 'toy', model: m, metadata: m.getUserDefinedMetadata(), dispose: () => m.dispose() }));
      const p = await loadPredictor(tf.io.fromMemory(artifacts));
      globalThis.task = p.task;
    })();`,
    here,
  );
  const ctx = await runInBareContext(code);
  expect(ctx.shape).toEqual([1, 4, 4, 1]);
  expect(ctx.range).toEqual([0, 1]);
  expect(ctx.box).toEqual([0, 0, 20, 10]); // 20×10 image scaled ×1.6 into 32×32, padded 8 above: back to the whole image
  expect(ctx.task).toBe('toy');
  expect(vm.runInContext('[typeof process, typeof require, typeof Buffer]', ctx)).toEqual(['undefined', 'undefined', 'undefined']);
});

it('a Node-only import anywhere in the graph fails the bundle, naming it', async () => {
  await expect(bundleForBrowser(`import './index';`, here)).rejects.toThrow(/Node-only imports: (node:)?\w+/);
});
