import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type { InferenceModel } from '../../infer/predictor';

/** File names of an ONNX model folder written by `<task>:export -- --format onnx`. */
export const ONNX_FILE = 'model.onnx';
export const ONNX_METADATA = 'metadata.json';

interface BindingSession {
  loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: object): void;
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, { data: Float32Array; dims: number[] }>;
  dispose(): void;
  readonly inputMetadata: { name: string; shape: number[] }[];
  readonly outputMetadata: { name: string; shape: number[] }[];
}

interface Ort {
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}

let ort: { common: Ort; binding: { InferenceSession: new () => BindingSession }; initOrt(): void } | null = null;

/**
 * onnxruntime-node, loaded on first use (an optional runtime). The Predictors call models synchronously,
 * so this uses the package's native session directly (its `run` is synchronous; the public API wraps
 * it in a promise). Pinned to onnxruntime-node 1.30.0.
 */
function onnxRuntime() {
  if (ort) return ort;
  const require = createRequire(import.meta.url);
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const { binding, initOrt } = require(/*turbopackIgnore: true*/ path.join(root, 'dist', 'binding.js'));
    ort = { common: require('onnxruntime-common') as Ort, binding, initOrt };
  } catch (e) {
    throw new Error(`ONNX Runtime is not available (${(e as Error).message}); install onnxruntime-node (npm ci installs it)`);
  }
  return ort;
}

/** Options of an ONNX Runtime session: intra-op threads (default: all cores). */
export interface OnnxSessionOptions {
  threads?: number;
}

/**
 * An ONNX model run by ONNX Runtime behind the interface the Predictors use (`predict`, metadata,
 * input/output shapes), so every task's pre- and post-processing runs over either runtime.
 *
 * @example
 * const model = OnnxModel.load('models/onnx/mnist');        // a folder with model.onnx (+ metadata.json)
 * const probs = model.predict(tf.zeros([1, 28, 28, 1]));     // tf.Tensor, as a LayersModel's predict
 */
export class OnnxModel implements InferenceModel {
  readonly runtime = 'onnxruntime';
  readonly inputs: { shape: (number | null)[] }[];
  readonly outputs: { shape: (number | null)[] }[];
  private readonly session: BindingSession;
  private readonly inputNames: string[];
  private readonly outputNames: string[];

  constructor(
    bytes: Uint8Array,
    private readonly metadata: Record<string, unknown>,
    options: OnnxSessionOptions = {},
  ) {
    const rt = onnxRuntime();
    rt.initOrt();
    this.session = new rt.binding.InferenceSession();
    this.session.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, {
      intraOpNumThreads: options.threads ?? os.availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
    const shape = (dims: number[]) => dims.map((d) => (d >= 0 ? d : null));
    this.inputNames = this.session.inputMetadata.map((m) => m.name);
    this.outputNames = this.session.outputMetadata.map((m) => m.name);
    this.inputs = this.session.inputMetadata.map((m) => ({ shape: shape(m.shape) }));
    this.outputs = this.session.outputMetadata.map((m) => ({ shape: shape(m.shape) }));
  }

  /**
   * A folder with model.onnx: written by `--format onnx` (with metadata.json), or from elsewhere, whose own
   * `metadata_props` become the metadata (an Ultralytics export's task, names, imgsz, stride).
   */
  static load(dir: string, options: OnnxSessionOptions = {}): OnnxModel {
    const file = path.join(dir, ONNX_FILE);
    if (!fs.existsSync(file))
      throw new Error(`'${dir}' holds no ${ONNX_FILE}; pass a folder written by <task>:export -- --format onnx, or put the .onnx file there as ${ONNX_FILE}`);
    const bytes = fs.readFileSync(file);
    const metaFile = path.join(dir, ONNX_METADATA);
    const metadata = fs.existsSync(metaFile) ? JSON.parse(fs.readFileSync(metaFile, 'utf8')) : onnxMetadataProps(bytes, file);
    return new OnnxModel(bytes, metadata, options);
  }

  getUserDefinedMetadata(): Record<string, unknown> {
    return this.metadata;
  }

  /** Runs the model on NHWC float32 inputs; returns tfjs tensors (one per output), as LayersModel.predict. */
  predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const rt = onnxRuntime();
    const xs = Array.isArray(x) ? x : [x];
    const feeds: Record<string, unknown> = {};
    xs.forEach((t, i) => (feeds[this.inputNames[i]] = new rt.common.Tensor('float32', t.dataSync() as Float32Array, t.shape)));
    const fetches = Object.fromEntries(this.outputNames.map((n) => [n, null]));
    const results = this.session.run(feeds, fetches, {});
    const outs = this.outputNames.map((n) => tf.tensor(results[n].data, results[n].dims.map(Number)));
    return outs.length === 1 ? outs[0] : outs;
  }

  dispose(): void {
    this.session.dispose();
  }
}

/** An ONNX model's `metadata_props` (key → string value), e.g. Ultralytics' {task, names, imgsz, stride}. */
export function onnxMetadataProps(bytes: Uint8Array, where: string): Record<string, string> {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new Error(`${where}: not a readable ONNX file (${(e as Error).message}); export it again`);
  }
  return Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
}
