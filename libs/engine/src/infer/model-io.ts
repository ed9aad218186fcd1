import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './files';
import { registerEngineLayers } from './layers';
import { setLocalModelResolver } from './predictor';

/** File names of a saved model: tfjs LayersModel format, loadable by `tf.loadLayersModel` in a browser. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A model directory that cannot be loaded; the message names the directory and the fix. */
export class ModelFormatError extends Error {
  override name = 'ModelFormatError';
}

/**
 * Saves a LayersModel as `dir/model.json` + `dir/weights.bin` (tfjs format), with optional metadata
 * (e.g. class names) in `userDefinedMetadata`. Each file is written atomically.
 *
 * @example
 * await saveModel(model, 'runs/classify/exp/model', { classNames: ['cat', 'dog'] });
 */
export async function saveModel(model: tf.LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<void> {
  if (metadata) model.setUserDefinedMetadata(metadata);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0));
      const json = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      fs.mkdirSync(dir, { recursive: true });
      writeFileAtomic(path.join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      writeFileAtomic(path.join(dir, MODEL_JSON), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weightData.byteLength } };
    }),
  );
}

/** Reads `dir/model.json` and its weight files into tfjs ModelArtifacts, with clear errors. */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const jsonPath = path.join(dir, MODEL_JSON);
  if (!fs.existsSync(dir)) throw new ModelFormatError(`model directory '${dir}' does not exist; pass a folder holding model.json`);
  if (!fs.existsSync(jsonPath)) {
    throw new ModelFormatError(`'${dir}' is not a tfjs model (no model.json); pass a folder written by train or export`);
  }
  let json: { modelTopology?: object; weightsManifest?: tf.io.WeightsManifestConfig; userDefinedMetadata?: object; format?: string };
  try {
    json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  } catch (e) {
    throw new ModelFormatError(`'${jsonPath}' is not valid JSON (${(e as Error).message}); re-export the model`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelFormatError(`'${jsonPath}' is not a tfjs LayersModel (needs modelTopology and weightsManifest)`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new ModelFormatError(`weights file '${file}' named in model.json is missing; re-export the model`);
      buffers.push(fs.readFileSync(file));
    }
  }
  const total = buffers.reduce((s, b) => s + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData: weightData.buffer,
    format: json.format,
    userDefinedMetadata: json.userDefinedMetadata as Record<string, object> | undefined,
  };
}

/**
 * Loads a LayersModel saved by `saveModel` (or any tfjs LayersModel folder with model.json).
 *
 * @example
 * const model = await loadModel('models/classify/mnist');
 * const classNames = (model.getUserDefinedMetadata() as { classNames: string[] }).classNames;
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  registerEngineLayers();
  const artifacts = readModelArtifacts(dir);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new ModelFormatError(`could not load the model in '${dir}': ${(e as Error).message}`);
  }
}

// In Node, `loadPredictor('runs/classify/exp/model')` reads a folder.
setLocalModelResolver((source) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) ? null : tf.io.fromMemory(readModelArtifacts(source))));
