import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, initBackend, loadModel, MODEL_JSON, parseArgs, readModelArtifacts, toPlainTopology, WEIGHTS_BIN, writeFileAtomic } from '@cv/engine';
import { classifierMetadata } from '@cv/tasks-classify';
import { z } from 'zod';
import { runCli } from './cli';

const ExportSchema = z.object({
  model: z.string().optional().describe('model directory to export, e.g. runs/classify/exp/model'),
  out: z.string().optional().describe('output directory (tfjs LayersModel: model.json + weights.bin)'),
});

async function main(argv: string[]): Promise<void> {
  const { config } = parseArgs(ExportSchema, argv);
  if (!config.model || !config.out) throw new ConfigError('classify:export needs --model <dir> --out <dir>');
  await initBackend();
  const original = await loadModel(config.model);
  const meta = classifierMetadata(original, config.model);
  const artifacts = readModelArtifacts(config.model);
  const tmp = `${config.out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const json = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: toPlainTopology(artifacts.modelTopology),
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
    userDefinedMetadata: meta,
  };
  writeFileAtomic(path.join(tmp, WEIGHTS_BIN), new Uint8Array(artifacts.weightData as ArrayBuffer));
  writeFileAtomic(path.join(tmp, MODEL_JSON), JSON.stringify(json));
  // Check the export: it must load with plain tfjs and give the same outputs as the original.
  const exported = await tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(tmp)));
  const probe = tf.randomUniform([4, ...meta.inputShape], 0, 1, 'float32', 7);
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(original.predict(probe) as tf.Tensor, exported.predict(probe) as tf.Tensor))).dataSync()[0]);
  if (!(diff <= 1e-6)) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`exported model differs from '${config.model}' by ${diff}; export aborted`);
  }
  fs.rmSync(config.out, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(path.resolve(config.out)), { recursive: true });
  fs.renameSync(tmp, config.out);
  console.log(`exported ${config.model} → ${config.out} (tfjs LayersModel, ${meta.classNames.length} classes, input ${meta.inputShape.join('×')}; max |Δ| vs original ${diff.toExponential(1)})`);
}

runCli(main, { schema: ExportSchema, usage: 'usage: nx run classify:export -- --model <dir> --out <dir>' });
