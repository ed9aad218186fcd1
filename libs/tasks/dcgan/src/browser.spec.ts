/**
 * `@cv/tasks-dcgan/predict` runs in a browser: bundled for the browser platform (no Node-only import in its
 * graph) and run in a bare V8 context, it loads a generator from an in-memory IO handler through
 * `loadPredictor` and draws the same images as the Node side does from the same weights.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { bundleForBrowser, runInBareContext } from '@cv/engine/testing';
import { createGenerator } from './models';
import { GanPredictor } from './predictor';

const here = path.dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initBackend({ log: false });
});

it('the GAN predict entry bundles for the browser and samples there as in Node', async () => {
  const generator = createGenerator({ imageShape: [8, 8, 1], latentDim: 6, width: 4, numClasses: 3, seed: 1 });
  generator.setUserDefinedMetadata({
    task: 'dcgan',
    latentDim: 6,
    imageShape: [8, 8, 1],
    classNames: ['a', 'b', 'c'],
    datasetClassNames: ['a', 'b', 'c'],
    dataset: 'toy',
    epochs: 1,
  });
  let artifacts: tf.io.ModelArtifacts | null = null;
  await generator.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const weights = Array.from(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts!.weightData!)));
  const code = await bundleForBrowser(
    `
    import * as tf from '@tensorflow/tfjs';
    import { loadPredictor } from '@cv/engine/core';
    import './predict';
    globalThis.__done = (async () => {
      await tf.setBackend('cpu');
      const artifacts = { ...JSON.parse(globalThis.artifacts), weightData: new Uint8Array(globalThis.weights).buffer };
      const gan = await loadPredictor(tf.io.fromMemory(artifacts));
      const s = gan.sample({ n: 4, seed: 2, classIndex: 1 });
      globalThis.task = gan.task;
      globalThis.images = Array.from(s.images);
      globalThis.labels = Array.from(s.labels);
      globalThis.frames = gan.sample({ n: 3, seed: 2, interpolate: true }).images.length;
      try { gan.sample({ n: 1, classIndex: 7 }); } catch (e) { globalThis.classError = e.message; }
    })();`,
    here,
  );
  const ctx = await runInBareContext(code, { artifacts: JSON.stringify({ ...artifacts!, weightData: undefined }), weights });
  expect(ctx.task).toBe('dcgan');
  expect(ctx.labels).toEqual([1, 1, 1, 1]);
  expect(ctx.frames).toBe(3 * 64);
  expect(ctx.classError).toMatch(/class 7 does not exist; classes 0..2: a, b, c/);
  const node = new GanPredictor(generator).sample({ n: 4, seed: 2, classIndex: 1 }).images;
  const browser = ctx.images as number[];
  expect(browser.length).toBe(node.length);
  expect(Math.max(...browser.map((v, i) => Math.abs(v - node[i])))).toBeLessThan(1e-4);
});
