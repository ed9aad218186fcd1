/**
 * `@cv/tasks-detect/predict` runs in a browser: bundled for the browser platform (no Node-only import in
 * its graph) and run in a bare V8 context, `loadPredictor` picks the detector from the model's metadata and
 * finds the same boxes as Node for an RGBA image of another size and aspect.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { bundleForBrowser, runInBareContext } from '@cv/engine/testing';
import { createDetector, REG_MAX, STRIDES } from './models';
import { DetectionPredictor } from './predictor';

const here = path.dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initBackend({ log: false });
});

it('the detect predict entry bundles for the browser and detects there as in Node', async () => {
  const model = createDetector('yolo-n', { imgsz: [64, 64], numClasses: 2, seed: 3 });
  model.setUserDefinedMetadata({ task: 'detect', classNames: ['a', 'b'], categoryIds: [1, 2], imgsz: [64, 64], strides: STRIDES, regMax: REG_MAX });
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
      globalThis.dets = JSON.parse(JSON.stringify(p.predict([{ ...globalThis.image, data: Uint8Array.from(globalThis.image.data) }], { conf: 0.01, maxDet: 10 })[0]));
    })();`,
    here,
  );
  const ctx = await runInBareContext(code, { artifacts: JSON.stringify({ ...artifacts!, weightData: undefined }), weights, image });
  expect(ctx.task).toBe('detect');
  const node = new DetectionPredictor(model).predict([{ ...image, data: Uint8Array.from(image.data) }], { conf: 0.01, maxDet: 10 })[0];
  const browser = ctx.dets as typeof node;
  expect(browser.length).toBe(node.length);
  browser.forEach((d, i) => {
    expect(d.classIndex).toBe(node[i].classIndex);
    d.box.forEach((v, j) => expect(v).toBeCloseTo(node[i].box[j], 2));
  });
});
