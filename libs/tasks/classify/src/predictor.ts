import * as tf from '@tensorflow/tfjs';
import {
  type CenterCropSpec,
  type DecodedImage,
  type ImagePredictor,
  type InferenceModel,
  type PredictTiming,
  prepareInput,
  rankClasses,
  readAsync,
  type Reads,
  readSync,
  resizeCenterCrop,
} from '@cv/engine/core';

/** What a saved classifier carries in model.json's `userDefinedMetadata`. */
export interface ClassifierMetadata {
  task: 'classify';
  classNames: string[];
  /** [H, W, C] the model expects; images are resized to it and scaled to 0..1. */
  inputShape: [number, number, number];
  dataset?: string;
  model?: string;
  /**
   * Reference architectures (imported torchvision weights, or trained from them): torchvision's eval transform
   * (shorter side → resize, centre crop), bit-exact with Pillow, instead of stretching to `inputShape`.
   */
  preprocess?: CenterCropSpec;
  [key: string]: unknown;
}

export interface Prediction {
  /** Index and name of the most likely class. */
  index: number;
  label: string;
  probability: number;
  /** The k most likely classes, best first. */
  topK: { index: number; label: string; probability: number }[];
}

/** Reads and checks a classifier's metadata. */
export function classifierMetadata(model: InferenceModel, where = 'model'): ClassifierMetadata {
  const meta = model.getUserDefinedMetadata() as Partial<ClassifierMetadata> | undefined;
  if (!meta?.classNames || !meta.inputShape) {
    throw new Error(`${where} has no classifier metadata (classNames, inputShape); use a model written by classify:train or classify:export`);
  }
  return { ...meta, task: 'classify' } as ClassifierMetadata;
}

/**
 * Runs a trained classifier on decoded images of any size (the engine's `prepareInput`: channels
 * converted, bilinear resize to the model's input, 0..1). Pure tfjs: the same code runs in Node and in
 * the browser.
 *
 * @example
 * const predictor = new ClassificationPredictor(model);
 * const [p] = predictor.predict([{ data, width, height, channels: 3 }]); // { label: 'Sneaker', probability: 0.97, topK: [...] }
 */
export class ClassificationPredictor implements ImagePredictor<Prediction> {
  readonly task = 'classify';
  readonly metadata: ClassifierMetadata;
  /** The last call's per-image milliseconds by stage. */
  timing: PredictTiming = { preprocess: 0, inference: 0, postprocess: 0 };

  constructor(
    readonly model: InferenceModel,
    readonly topK = 5,
  ) {
    this.metadata = classifierMetadata(model);
  }

  predict(images: DecodedImage[], topK = this.topK): Prediction[] {
    return readSync(this.steps(images, topK));
  }

  predictAsync(images: DecodedImage[], topK = this.topK): Promise<Prediction[]> {
    return readAsync(this.steps(images, topK));
  }

  private *steps(images: DecodedImage[], topK: number): Reads<Prediction[]> {
    const t0 = performance.now();
    const pre = this.metadata.preprocess;
    const fitted = pre ? images.map((img) => resizeCenterCrop(img, pre)) : images;
    const { x } = prepareInput(fitted, { shape: this.metadata.inputShape, fit: 'resize' });
    const t1 = performance.now();
    // tidy returns the tensor, not its data: tidy would walk a returned typed array element by element.
    const out = tf.tidy(() => this.model.predict(x) as tf.Tensor);
    const probs = (yield out) as Float32Array;
    tf.dispose([out, x]);
    const t2 = performance.now();
    const ranked = images.map((_, i) => rankClasses(probs, i, this.metadata.classNames, topK));
    const n = images.length;
    this.timing = { preprocess: (t1 - t0) / n, inference: (t2 - t1) / n, postprocess: (performance.now() - t2) / n };
    return ranked;
  }

  dispose(): void {
    this.model.dispose();
  }
}
