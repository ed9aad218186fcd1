import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { loadModel, MODEL_JSON, readModelArtifacts, toPlainTopology, WEIGHTS_BIN, writeFileAtomic } from '@cv/engine';

/**
 * Writes `modelDir` to `outDir` as a plain tfjs LayersModel (engine layer classes renamed to their
 * inference equivalents, so a stock `tf.loadLayersModel` loads it), checks that the copy loads and gives
 * the same outputs, then swaps it into place. Returns the max |Δ| of the check.
 */
export async function exportModel(modelDir: string, outDir: string, inputShape: number[]): Promise<number> {
  const original = await loadModel(modelDir);
  const artifacts = readModelArtifacts(modelDir);
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: toPlainTopology(artifacts.modelTopology),
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    userDefinedMetadata: artifacts.userDefinedMetadata,
  };
  writeFileAtomic(path.join(tmp, WEIGHTS_BIN), new Uint8Array(artifacts.weightData as ArrayBuffer));
  writeFileAtomic(path.join(tmp, MODEL_JSON), JSON.stringify(json));
  const exported = await tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(tmp)));
  const probe = tf.randomUniform([4, ...inputShape], 0, 1, 'float32', 7);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(original.predict(probe) as tf.Tensor, exported.predict(probe) as tf.Tensor))).dataSync()[0]);
  tf.dispose([probe]);
  original.dispose();
  exported.dispose();
  if (!(diff <= 1e-5)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`exported model differs from '${modelDir}' by ${diff}; export aborted`);
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(path.resolve(outDir)), { recursive: true });
  fs.renameSync(tmp, outDir);
  return diff;
}
