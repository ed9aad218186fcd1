/**
 * `@cv/tasks-segment/predict` runs in a browser: bundled for the browser platform (no Node-only import in
 * its graph) and run in a bare V8 context, `loadPredictor` picks the segmenter from the model's metadata and
 * gives the same mask as Node for an RGBA image of another size and aspect.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { bundleForBrowser, runInBareContext } from '@cv/engine/testing';
import { createSegmenter } from './models';
import { SegmentationPredictor } from './predictor';

const here = path.dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initBackend({ log: false });
});

it('the segment predict entry bundles for the browser and segments there as in Node', async () => {
  const model = createSegmenter('unet-n', { numClasses: 3, seed: 3 });
  model.setUserDefinedMetadata({ task: 'segment', classNames: ['background', 'a', 'b'], imgsz: [64, 64], reduction: 32 });
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const weights = Array.from(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts!.weightData!)));
  const image = { data: Array.from({ length: 40 * 90 * 4 }, (_, i) => (i * 31) % 256), width: 90, height: 40, channels: 4 as const };
  const code = await bundleForBrowser(
    `
    import * as tf from '@tensorflow/tfjs';
    import { loadPredictor } from '@cv/engine/core';
    import './predict';
    globalThis.__done = (async () => {
      await tf.setBackend('cpu');
      const p = await loadPredictor(tf.io.fromMemory({ ...JSON.parse(globalThis.artifacts), weightData: new Uint8Array(globalThis.weights).buffer }));
      globalThis.task = p.task;
      const [r] = p.predict([{ ...globalThis.image, data: Uint8Array.from(globalThis.image.data) }]);
      globalThis.mask = Array.from(r.mask);
      globalThis.size = [r.width, r.height];
    })();`,
    here,
  );
  const ctx = await runInBareContext(code, { artifacts: JSON.stringify({ ...artifacts!, weightData: undefined }), weights, image });
  expect(ctx.task).toBe('segment');
  expect(ctx.size).toEqual([90, 40]);
  const [node] = new SegmentationPredictor(model).predict([{ ...image, data: Uint8Array.from(image.data) }]);
  const browser = ctx.mask as number[];
  const same = browser.filter((v, i) => v === node.mask[i]).length / browser.length;
  expect(same).toBeGreaterThanOrEqual(0.995); // the web demo's bar: ≥ 99.5 % equal pixels
});
