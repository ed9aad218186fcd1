/**
 * `@cv/tasks-sequence/predict` runs in a browser: bundled for the browser platform and run in a bare V8
 * context, `loadPredictor` picks the sequence Predictor (its custom layers registered) and answers as Node does.
 */
import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { bundleForBrowser, runInBareContext } from '@cv/engine/testing';
import { createSequenceModel } from './models';
import { SequencePredictor } from './predictor';

const here = path.dirname(fileURLToPath(import.meta.url));

beforeAll(async () => {
  await initBackend({ log: false });
});

it('the sequence predict entry bundles for the browser and predicts there as in Node', async () => {
  const model = createSequenceModel('tcn', { steps: null, features: 1, numClasses: 2, width: 4, seed: 3 });
  model.setUserDefinedMetadata({ task: 'sequence', classNames: ['down', 'up'], steps: null, features: 1 });
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(tf.io.withSaveHandler(async (a) => ((artifacts = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const weights = Array.from(new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts!.weightData!)));
  const seqs = [Array.from({ length: 9 }, (_, t) => [t / 9]), Array.from({ length: 5 }, (_, t) => [1 - t / 5])];
  const code = await bundleForBrowser(
    `
    import * as tf from '@tensorflow/tfjs';
    import { loadPredictor } from '@cv/engine/core';
    import './predict';
    globalThis.__done = (async () => {
      await tf.setBackend('cpu');
      const predictor = await loadPredictor(tf.io.fromMemory({ ...JSON.parse(globalThis.artifacts), weightData: new Uint8Array(globalThis.weights).buffer }));
      globalThis.task = predictor.task;
      globalThis.predictions = JSON.parse(JSON.stringify(predictor.predict(globalThis.seqs)));
    })();`,
    here,
  );
  const ctx = await runInBareContext(code, { artifacts: JSON.stringify({ ...artifacts!, weightData: undefined }), weights, seqs });
  expect(ctx.task).toBe('sequence');
  const browser = ctx.predictions as ReturnType<SequencePredictor['predict']>;
  const node = new SequencePredictor(model).predict(seqs);
  browser.forEach((b, i) => {
    expect(b.label).toBe(node[i].label);
    expect(b.probability).toBeCloseTo(node[i].probability, 4);
  });
});
