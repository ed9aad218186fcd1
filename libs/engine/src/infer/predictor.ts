import * as tf from '@tensorflow/tfjs';
import { registerEngineLayers } from './layers';
import { fuseForInference } from './fuse';
import type { Precision } from '../kernels/precision';
import type { DecodedImage } from './preprocess';

/** What every saved model carries in model.json's `userDefinedMetadata`: at least the task that made it. */
export interface ModelMetadata {
  task: string;
  [key: string]: unknown;
}

/**
 * What a Predictor needs of its model: a tfjs LayersModel, or another runtime behind the same calls
 * (`OnnxModel`: ONNX Runtime). Inputs and outputs are NHWC tensors, as tfjs's.
 */
export interface InferenceModel {
  predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[];
  getUserDefinedMetadata(): object | undefined;
  dispose(): unknown;
  readonly inputs: readonly { readonly shape: readonly (number | null)[] }[];
  readonly outputs: readonly { readonly shape: readonly (number | null)[] }[];
  /** The runtime behind it when not tfjs: 'onnxruntime'. */
  readonly runtime?: string;
}

/** A trained model ready to answer, for one task (see each task's `predict` entry). */
export interface Predictor {
  readonly task: string;
  readonly model: InferenceModel;
  readonly metadata: ModelMetadata;
  dispose(): void;
}

/**
 * Per-image milliseconds of a Predictor's last `predict` call, by stage: `preprocess` (resize / letterbox to the
 * model's input), `inference` (the model, up to its output read back), `postprocess` (decoding boxes, NMS, masks
 * back at the image's size, ranking).
 */
export interface PredictTiming {
  preprocess: number;
  inference: number;
  postprocess: number;
}

/** A Predictor that answers for images: decoded pixel buffers of any size. */
export interface ImagePredictor<O> extends Predictor {
  predict(images: DecodedImage[]): O[];
  /** The same answers, read back asynchronously (what a WebGPU backend needs; same options as `predict`). */
  predictAsync(images: DecodedImage[]): Promise<O[]>;
  /** The last call's per-image milliseconds by stage. */
  readonly timing: PredictTiming;
}

/** Where a model is: a URL (browser or server: `tf.loadLayersModel`), a tfjs IO handler, or, in Node, a folder. */
export type ModelSource = string | tf.io.IOHandler;

type Factory = (model: InferenceModel) => Predictor;
const factories = new Map<string, { factory: Factory; setup?: () => void }>();
let localResolver: ((source: string) => tf.io.IOHandler | null) | null = null;

/**
 * Registers a task's Predictor under the `task` its models' metadata names (each task's predict entry
 * does it on import); `setup` registers the custom layers its models use.
 */
export function registerPredictor(task: string, factory: Factory, setup?: () => void): void {
  factories.set(task, { factory, setup });
}

/** Tasks with a registered Predictor. */
export function predictorTasks(): string[] {
  return [...factories.keys()].sort();
}

/** Node: how a string that names a local folder becomes an IO handler (set by the engine's Node entry). */
export function setLocalModelResolver(resolve: (source: string) => tf.io.IOHandler | null): void {
  localResolver = resolve;
}

/** Loads a LayersModel from a URL, an IO handler or (Node) a folder, with every registered task's layers. */
export async function loadModelFrom(source: ModelSource, onProgress?: (fraction: number) => void): Promise<tf.LayersModel> {
  registerEngineLayers();
  for (const { setup } of factories.values()) setup?.();
  const handler = typeof source === 'string' ? (localResolver?.(source) ?? source) : source;
  return tf.loadLayersModel(handler as string | tf.io.IOHandler, onProgress ? { onProgress } : undefined);
}

/** The Predictor of a loaded model, chosen by its metadata's `task`. */
export function predictorFor(model: InferenceModel, where = 'model'): Predictor {
  const meta = model.getUserDefinedMetadata() as Partial<ModelMetadata> | undefined;
  if (!meta?.task) throw new Error(`${where} has no task in its metadata; use a model written by one of the suite's train or export commands`);
  const entry = factories.get(meta.task);
  if (!entry) {
    throw new Error(
      `no Predictor for task '${meta.task}' (${where}); import its predict entry (e.g. '@cv/tasks-${meta.task}/predict'); registered: ${predictorTasks().join(', ') || 'none'}`,
    );
  }
  return entry.factory(model);
}

/** Which runtime runs a model: tfjs (any backend), or ONNX Runtime (Node; a tfjs folder is converted in memory). */
export type Runtime = 'tfjs' | 'onnx';

export interface LoadOptions {
  /** Default: tfjs, or ONNX Runtime for a folder that holds only model.onnx. */
  runtime?: Runtime;
  /** ONNX Runtime's intra-op threads (default: all cores). */
  threads?: number;
  /** tfjs: fold BatchNorm into the convolutions and fuse their activations (`fuseForInference`; default true). */
  fuse?: boolean;
  /** The folded convolutions' precision (see `Precision`; default `f32`). */
  precision?: Precision;
  /**
   * tfjs on the native kernels: run the inference graph as one native call per batch (`compileNativeGraph`) where
   * it has only layers the graph runner takes (default true; false runs it layer by layer).
   */
  graph?: boolean;
  /** A URL's weights as they arrive: called with the fraction loaded, 0..1 (a page's first-load progress bar). */
  onProgress?: (fraction: number) => void;
}

type Opener = (source: string, options: LoadOptions) => Promise<InferenceModel | null>;
type GraphCompiler = (model: tf.LayersModel & { precision?: 'f32' | 'bf16' }) => InferenceModel | null;
let graphCompiler: GraphCompiler | null = null;

/** Set by the native kernels' registration (Node): how an inference graph becomes one native call per batch; null unsets. */
export function setInferenceGraphCompiler(compile: GraphCompiler | null): void {
  graphCompiler = compile;
}
let localOpener: Opener | null = null;

/** Node: how a local folder opens under another runtime than tfjs (set by the engine's ONNX entry). */
export function setLocalModelOpener(open: Opener): void {
  localOpener = open;
}

/**
 * Loads a model and returns its task's Predictor (`classify` → ClassificationPredictor, `dcgan` →
 * GanPredictor, ...), under tfjs or (Node) ONNX Runtime.
 *
 * @example
 * import '@cv/tasks-classify/predict';
 * const predictor = await loadPredictor('models/classify/fashion-mnist'); // or a URL, or tf.io.fromMemory(...)
 * const onnx = await loadPredictor('models/classify/fashion-mnist', { runtime: 'onnx' }); // same answers, ONNX Runtime
 */
export async function loadPredictor(source: ModelSource, options: LoadOptions = {}): Promise<Predictor> {
  const where = typeof source === 'string' ? `'${source}'` : 'model';
  let model: InferenceModel | null = typeof source === 'string' && localOpener ? await localOpener(source, options) : null;
  if (!model && options.runtime === 'onnx') throw new Error(`${where}: the ONNX runtime is available in Node for local model folders only`);
  model ??= await loadModelFrom(source, options.onProgress);
  // Conv + BatchNorm (+ activation) folded into one kernel; `fuse: false` keeps the saved graph as it is.
  if (model instanceof tf.LayersModel && options.fuse !== false) model = inferenceForm(model, options);
  return predictorFor(model, where);
}

/**
 * A tfjs model as `loadPredictor` runs it: BatchNorm folded into the convolutions and their activations fused
 * (`fuseForInference`), then, on the native kernels, the whole graph as one call per batch where the graph runner
 * takes every layer (`graph: false` stops there). The result may hold the model's own layers (a model with nothing to
 * fold comes back as it is, or wrapped by the graph runner): disposing it disposes the model.
 *
 * @example
 * const fast = inferenceForm(await loadModel('models/detect/shapes'), { precision: 'bf16' });
 */
export function inferenceForm(model: tf.LayersModel, options: Pick<LoadOptions, 'precision' | 'graph'> = {}): InferenceModel {
  const fused = fuseForInference(model, { precision: options.precision });
  return (options.graph !== false && graphCompiler?.(fused)) || fused;
}

/**
 * `loadPredictor` for a command of one task: the model must name that task, else one line says which command
 * fits it.
 *
 * @example
 * const detector = await loadTaskPredictor<DetectionPredictor>('runs/detect/exp/model', 'detect', 'detect:val');
 */
export async function loadTaskPredictor<P extends Predictor>(source: ModelSource, task: string, command: string, options: LoadOptions = {}): Promise<P> {
  const predictor = await loadPredictor(source, options);
  if (predictor.task !== task) {
    const where = typeof source === 'string' ? `'${source}'` : 'the model';
    predictor.dispose();
    throw new Error(`${where} is a ${predictor.task} model, not a ${task} model; use ${predictor.task}:${command.split(':')[1] ?? 'predict'}`);
  }
  return predictor as P;
}

/** One class of a ranking: its index, name and probability. */
export interface RankedClass {
  index: number;
  label: string;
  probability: number;
}

/**
 * Row `i` of [N·K] class probabilities ranked: the most likely class and the `topK` best, best first (ties
 * by index) — what the classify and sequence Predictors return.
 */
export function rankClasses(probs: Float32Array, i: number, classNames: string[], topK: number): RankedClass & { topK: RankedClass[] } {
  const k = classNames.length;
  const row = Array.from(probs.subarray(i * k, (i + 1) * k), (p, index) => ({ index, label: classNames[index], probability: p }));
  row.sort((a, b) => b.probability - a.probability || a.index - b.index);
  return { ...row[0], topK: row.slice(0, Math.min(topK, k)) };
}
