import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { replaceDirAtomic, resolveDir } from '../infer/files';
import { loadModel, saveModel } from '../infer/model-io';
import type { TrainState } from './types';

export type { TrainState } from './types';

interface OptimizerFile {
  name: string;
  specs: { name: string; shape: number[]; offset: number }[];
  /** Scalar state outside getWeights (Adam's running β powers), restored bit-exactly. */
  scalars?: Record<string, number>;
}

/**
 * Adam's running powers β1ᵗ and β2ᵗ: tfjs's setWeights recomputes them as pow(β, t+1), which differs in the
 * last bits from the product accumulated step by step — enough to make a resumed GAN drift from an
 * uninterrupted one. They are saved and restored as they are.
 */
const EXACT_SCALARS = ['accBeta1', 'accBeta2'];

/** Anything with tfjs's optimizer weight interface (all tfjs optimizers have it). */
type SerializableOptimizer = tf.Optimizer & {
  getWeights(): Promise<{ name: string; tensor: tf.Tensor }[]>;
  setWeights(weights: { name: string; tensor: tf.Tensor }[]): Promise<void>;
};

async function saveOptimizer(optimizer: tf.Optimizer, file: string): Promise<void> {
  const weights = await (optimizer as SerializableOptimizer).getWeights();
  const specs: OptimizerFile['specs'] = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const w of weights) {
    const data = (await w.tensor.data()) as Float32Array;
    specs.push({ name: w.name, shape: w.tensor.shape, offset });
    chunks.push(Float32Array.from(data));
    offset += data.length;
  }
  const all = new Float32Array(offset);
  chunks.reduce((o, c) => (all.set(c, o), o + c.length), 0);
  fs.writeFileSync(`${file}.bin`, new Uint8Array(all.buffer));
  const scalars: Record<string, number> = {};
  for (const key of EXACT_SCALARS) {
    const v = (optimizer as unknown as Record<string, unknown>)[key];
    if (v instanceof tf.Variable && v.size === 1) scalars[key] = (await v.data())[0];
  }
  fs.writeFileSync(`${file}.json`, JSON.stringify({ name: optimizer.getClassName(), specs, scalars } satisfies OptimizerFile));
}

async function loadOptimizer(optimizer: tf.Optimizer, file: string): Promise<void> {
  const meta = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as OptimizerFile;
  const buf = fs.readFileSync(`${file}.bin`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const weights = meta.specs.map((s) => {
    const size = s.shape.reduce((a, b) => a * b, 1);
    return { name: s.name, tensor: tf.tensor(all.subarray(s.offset, s.offset + size), s.shape) };
  });
  await (optimizer as SerializableOptimizer).setWeights(weights);
  // setWeights wraps each tensor in a new variable (sharing its buffer); our handles can go.
  tf.dispose(weights.map((w) => w.tensor));
  for (const [key, value] of Object.entries(meta.scalars ?? {})) {
    const v = (optimizer as unknown as Record<string, unknown>)[key];
    if (v instanceof tf.Variable) tf.tidy(() => v.assign(tf.scalar(value)));
  }
}

/**
 * Writes a checkpoint directory atomically (temp dir, then rename): each model's weights
 * (`<name>/model.json` + weights), each optimizer's slots, and `state.json`.
 *
 * @example
 * await saveCheckpoint('runs/classify/exp/checkpoints/last', { model }, { adam: opt }, state);
 */
export async function saveCheckpoint(
  dir: string,
  models: Record<string, tf.LayersModel>,
  optimizers: Record<string, tf.Optimizer>,
  state: TrainState,
): Promise<void> {
  await replaceDirAtomic(dir, async (tmp) => {
    for (const [name, model] of Object.entries(models)) await saveModel(model, path.join(tmp, name));
    for (const [name, opt] of Object.entries(optimizers)) await saveOptimizer(opt, path.join(tmp, `optimizer-${name}`));
    fs.writeFileSync(path.join(tmp, 'state.json'), stateJson(state));
  });
}

/**
 * state.json text: plain JSON, except that ±Infinity and NaN (an EarlyStopping `best` before the first validation)
 * are written as `{"$number": "Infinity"}` — JSON itself would turn them into null.
 */
export function stateJson(state: TrainState): string {
  return JSON.stringify(state, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $number: String(v) } : v));
}

/** Parses state.json text written by `stateJson`. */
export function parseStateJson(text: string): TrainState {
  return JSON.parse(text, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof v.$number === 'string' ? Number(v.$number) : v,
  );
}

/** Reads `state.json` of a checkpoint, or null if there is none. */
export function readCheckpointState(dir: string): TrainState | null {
  const found = resolveDir(dir);
  if (!found || !fs.existsSync(path.join(found, 'state.json'))) return null;
  return parseStateJson(fs.readFileSync(path.join(found, 'state.json'), 'utf8'));
}

/** Copies a checkpoint's weights into the given models (by layer order) and restores optimizer slots. */
export async function loadCheckpoint(dir: string, models: Record<string, tf.LayersModel>, optimizers: Record<string, tf.Optimizer>): Promise<TrainState> {
  const found = resolveDir(dir);
  const state = readCheckpointState(dir);
  if (!found || !state) throw new Error(`no checkpoint in '${dir}'`);
  for (const [name, model] of Object.entries(models)) {
    const saved = await loadModel(path.join(found, name));
    model.setWeights(saved.getWeights());
    saved.dispose();
  }
  for (const [name, opt] of Object.entries(optimizers)) {
    const file = path.join(found, `optimizer-${name}`);
    if (fs.existsSync(`${file}.json`)) await loadOptimizer(opt, file);
  }
  return state;
}
