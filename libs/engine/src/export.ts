import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { initBackend } from './backend';
import { ConfigError, parseArgs } from './config';
import { writeFileAtomic } from './fsutil';
import { toPlainTopology } from './layers';
import { loadModel, MODEL_JSON, readModelArtifacts, WEIGHTS_BIN } from './model-io';

/**
 * Writes `modelDir` to `outDir` as a plain tfjs LayersModel (engine layer classes renamed to their
 * inference equivalents, so a stock `tf.loadLayersModel` loads it), checks that the copy loads and gives
 * the same outputs, then swaps it into place. Returns the max |Δ| of the check.
 */
export async function exportModel(modelDir: string, outDir: string): Promise<number> {
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
  // Every input gets a probe (a conditional generator has two; free spatial sizes, as a U-Net's, get 64); every output is compared.
  const probes = original.inputs.map((input, i) => tf.randomUniform([4, ...input.shape.slice(1).map((d) => d ?? 64)], 0, 1, 'float32', 7 + i));
  const diff = tf.tidy(() => {
    const a = [original.predict(probes) as tf.Tensor | tf.Tensor[]].flat();
    const b = [exported.predict(probes) as tf.Tensor | tf.Tensor[]].flat();
    return Math.max(...a.map((t, i) => tf.max(tf.abs(tf.sub(t, b[i]))).dataSync()[0]));
  });
  tf.dispose(probes);
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

export const ExportSchema = z.object({
  model: z.string().optional().describe('model directory to export, e.g. runs/classify/exp/model'),
  out: z.string().optional().describe('output directory (tfjs LayersModel: model.json + weights.bin)'),
});

/** `<task>:export`: any saved model of the suite → a plain tfjs LayersModel, checked against the original. */
export async function runExport(argv: string[], command: string): Promise<void> {
  const { config } = parseArgs(ExportSchema, argv);
  if (!config.model || !config.out) throw new ConfigError(`${command} needs --model <dir> --out <dir>`);
  await initBackend();
  const diff = await exportModel(config.model, config.out);
  const meta = readModelArtifacts(config.out).userDefinedMetadata as { task?: string } | undefined;
  console.log(
    `exported ${config.model} → ${config.out} (tfjs LayersModel${meta?.task ? `, task ${meta.task}` : ''}; max |Δ| vs original ${diff.toExponential(1)})`,
  );
}
