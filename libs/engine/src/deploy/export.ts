import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { initBackend } from '../infer/backend';
import { ConfigError, parseArgs } from '../cli/args';
import { writeFileAtomic } from '../infer/files';
import { toPlainTopology } from '../infer/layers';
import { loadModel, MODEL_JSON, readModelArtifacts, WEIGHTS_BIN } from '../infer/model-io';
import { modelToOnnx } from './onnx/export';
import { ONNX_FILE, ONNX_METADATA, OnnxModel } from './onnx/runtime';
import { QUANTIZE_MODES, type QuantizeMode, quantizeWeights } from './quantize';
import { needsStockRewrite, toStockModel } from './stock-layers';

/** Every input gets a probe (a conditional generator has two; free spatial sizes, as a U-Net's, get 64). */
function probesFor(model: tf.LayersModel, n = 4): tf.Tensor[] {
  return model.inputs.map((input, i) => tf.randomUniform([n, ...input.shape.slice(1).map((d) => d ?? 64)], 0, 1, 'float32', 7 + i));
}

/** Max |Δ| per output between two models on the same inputs. */
function outputDiffs(a: { predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] }, b: typeof a, probes: tf.Tensor[]): number[] {
  const x = probes.length === 1 ? probes[0] : probes;
  const ya = [a.predict(x)].flat();
  const yb = [b.predict(x)].flat();
  const d = ya.map((t, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(t, yb[i]))).dataSync()[0]));
  tf.dispose([...ya, ...yb]);
  return d;
}

/** Writes into `<outDir>.tmp-<pid>` with `write`, then swaps it into place; nothing half-written on failure. */
async function writeFolder<T>(outDir: string, write: (tmp: string) => Promise<T>): Promise<T> {
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const result = await write(tmp);
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(path.resolve(outDir)), { recursive: true });
    fs.renameSync(tmp, outDir);
    return result;
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** A model's topology, weight specs and weights, as `save` would write them. */
async function artifactsOf(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const metadata = model.getUserDefinedMetadata() as { [key: string]: {} };
  const a = artifacts! as tf.io.ModelArtifacts;
  const data = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : a.weightData;
  return { ...a, weightData: data, userDefinedMetadata: metadata };
}

export interface ExportOptions {
  /** Store float32 weights as float16 or per-tensor affine uint8 (tfjs manifests dequantize them on load). */
  quantize?: QuantizeMode;
}

/**
 * Writes `modelDir` to `outDir` as a plain tfjs LayersModel (engine layer classes renamed to their
 * inference equivalents, so a stock `tf.loadLayersModel` loads it), checks that the copy loads and gives
 * the same outputs, then swaps it into place. Returns the max |Δ| of the check over all outputs: it must be
 * ≤ 1e-5 for a float32 copy; for a quantized one it is the quantization's effect on the outputs (reported).
 */
export async function exportModel(modelDir: string, outDir: string, options: ExportOptions = {}): Promise<number> {
  const original = await loadModel(modelDir);
  // Custom layers with a stock form (registered by their task) are written as stock layers.
  const artifacts = needsStockRewrite(original) ? await artifactsOf(toStockModel(original)) : readModelArtifacts(modelDir);
  const weights = options.quantize
    ? quantizeWeights(artifacts.weightSpecs ?? [], artifacts.weightData as ArrayBuffer, options.quantize)
    : { specs: artifacts.weightSpecs ?? [], data: artifacts.weightData as ArrayBuffer };
  const metadata = { ...(artifacts.userDefinedMetadata ?? {}), ...(options.quantize ? { quantization: options.quantize } : {}) };
  try {
    return await writeFolder(outDir, async (tmp) => {
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: toPlainTopology(artifacts.modelTopology),
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: weights.specs }],
        userDefinedMetadata: metadata,
      };
      writeFileAtomic(path.join(tmp, WEIGHTS_BIN), new Uint8Array(weights.data));
      writeFileAtomic(path.join(tmp, MODEL_JSON), JSON.stringify(json));
      const exported = await tf.loadLayersModel(tf.io.fromMemory(readModelArtifacts(tmp)));
      const probes = probesFor(original);
      const diff = Math.max(...outputDiffs(original, exported, probes));
      tf.dispose(probes);
      exported.dispose();
      if (!options.quantize && !(diff <= 1e-5)) throw new Error(`exported model differs from '${modelDir}' by ${diff}; export aborted`);
      return diff;
    });
  } finally {
    original.dispose();
  }
}

/**
 * Writes `modelDir` as `outDir/model.onnx` (opset 13, NHWC inputs and outputs as tfjs's) +
 * `outDir/metadata.json`, and checks it with ONNX Runtime against tfjs on probe inputs: every output within
 * `tolerance` (else nothing is written and the error names the output and its max |Δ|). Returns the max |Δ|.
 */
export async function exportOnnx(modelDir: string, outDir: string, tolerance = 1e-4): Promise<number> {
  const model = await loadModel(modelDir);
  const metadata = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  try {
    return await writeFolder(outDir, async (tmp) => {
      const stock = needsStockRewrite(model) ? toStockModel(model) : model;
      const bytes = modelToOnnx(stock, metadata);
      if (stock !== model) stock.dispose();
      writeFileAtomic(path.join(tmp, ONNX_FILE), bytes);
      writeFileAtomic(path.join(tmp, ONNX_METADATA), JSON.stringify(metadata, null, 2));
      const onnx = OnnxModel.load(tmp);
      const probes = probesFor(model);
      const diffs = outputDiffs(model, onnx, probes);
      tf.dispose(probes);
      onnx.dispose();
      diffs.forEach((d, i) => {
        if (!(d <= tolerance)) {
          throw new Error(`ONNX Runtime's output '${model.outputNames[i]}' differs from tfjs by ${d.toExponential(2)} (> ${tolerance}); export aborted`);
        }
      });
      return Math.max(...diffs);
    });
  } finally {
    model.dispose();
  }
}

export const ExportSchema = z.object({
  model: z.string().optional().describe('model directory to export, e.g. runs/classify/exp/model'),
  out: z.string().optional().describe('output directory (tfjs: model.json + weights.bin; onnx: model.onnx + metadata.json)'),
  format: z.enum(['tfjs', 'onnx']).default('tfjs').describe('tfjs LayersModel, or ONNX (opset 13, checked by ONNX Runtime)'),
  quantize: z
    .enum(QUANTIZE_MODES)
    .optional()
    .describe(`tfjs weights stored as ${QUANTIZE_MODES.join(' or ')} (dequantized by any tfjs loader)`),
});

/** `<task>:export`: any saved model of the suite → a plain (optionally quantized) tfjs LayersModel or an ONNX model, checked against the original. */
export async function runExport(argv: string[], command: string): Promise<void> {
  const { config } = parseArgs(ExportSchema, argv);
  if (!config.model || !config.out) throw new ConfigError(`${command} needs --model <dir> --out <dir>`);
  if (config.format === 'onnx' && config.quantize) throw new ConfigError(`${command}: --quantize applies to the tfjs format; drop it with --format onnx`);
  await initBackend();
  if (config.format === 'onnx') {
    const diff = await exportOnnx(config.model, config.out);
    const size = fs.statSync(path.join(config.out, ONNX_FILE)).size;
    console.log(
      `exported ${config.model} → ${path.join(config.out, ONNX_FILE)} (ONNX opset 13, ${(size / 1e6).toFixed(2)} MB; ONNX Runtime vs tfjs max |Δ| ${diff.toExponential(1)})`,
    );
    return;
  }
  const diff = await exportModel(config.model, config.out, { quantize: config.quantize });
  const meta = readModelArtifacts(config.out).userDefinedMetadata as { task?: string } | undefined;
  const size = fs.statSync(path.join(config.out, WEIGHTS_BIN)).size;
  console.log(
    `exported ${config.model} → ${config.out} (tfjs LayersModel${meta?.task ? `, task ${meta.task}` : ''}${config.quantize ? `, ${config.quantize} weights` : ''}, ${(size / 1e6).toFixed(2)} MB; max |Δ| vs original ${diff.toExponential(1)})`,
  );
}
