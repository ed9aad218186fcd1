import * as tf from '@tensorflow/tfjs';

/** What a saved classifier carries in model.json's `userDefinedMetadata`. */
export interface ClassifierMetadata {
  task: 'classify';
  classNames: string[];
  /** [H, W, C] the model expects; images are resized to it and scaled to 0..1. */
  inputShape: [number, number, number];
  dataset?: string;
  model?: string;
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
export function classifierMetadata(model: tf.LayersModel, where = 'model'): ClassifierMetadata {
  const meta = model.getUserDefinedMetadata() as Partial<ClassifierMetadata> | undefined;
  if (!meta?.classNames || !meta.inputShape) {
    throw new Error(`${where} has no classifier metadata (classNames, inputShape); use a model written by classify:train or classify:export`);
  }
  return meta as ClassifierMetadata;
}

/**
 * Runs a trained classifier on decoded images (HWC uint8, already at the model's input size). Pure
 * tfjs: the same code runs in Node and in the browser.
 *
 * @example
 * const predictor = new ClassificationPredictor(model);
 * const [p] = predictor.predict([pixels]); // { label: 'Sneaker', probability: 0.97, topK: [...] }
 */
export class ClassificationPredictor {
  readonly metadata: ClassifierMetadata;

  constructor(readonly model: tf.LayersModel) {
    this.metadata = classifierMetadata(model);
  }

  predict(images: Uint8Array[], topK = 5): Prediction[] {
    const [h, w, c] = this.metadata.inputShape;
    const size = h * w * c;
    const x = new Float32Array(images.length * size);
    images.forEach((img, i) => {
      if (img.length !== size) throw new Error(`image ${i} has ${img.length} values; the model expects ${h}×${w}×${c}`);
      for (let j = 0; j < size; j++) x[i * size + j] = img[j] / 255;
    });
    // tidy returns the tensor, not its data: tidy would walk a returned typed array element by element.
    const out = tf.tidy(() => this.model.predict(tf.tensor4d(x, [images.length, h, w, c])) as tf.Tensor);
    const probs = out.dataSync() as Float32Array;
    out.dispose();
    const k = this.metadata.classNames.length;
    return images.map((_, i) => {
      const row = Array.from(probs.subarray(i * k, (i + 1) * k), (p, index) => ({ index, label: this.metadata.classNames[index], probability: p }));
      row.sort((a, b) => b.probability - a.probability || a.index - b.index);
      return { ...row[0], topK: row.slice(0, Math.min(topK, k)) };
    });
  }
}
