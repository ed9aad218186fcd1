import * as tf from '@tensorflow/tfjs';
import type { ClassificationSet } from '@cv/data';
import { readAsync, type Reads, readSync, unitRange } from '@cv/engine';
import { frechetDistance, gaussianStats, type GaussianStats, meanMaxConfidence, normalizedClassEntropy } from '@cv/metrics';

/** Scores of a set of generated images, judged by a classifier (see `GeneratorEvaluator`). */
export interface GeneratorScores {
  /** Mean over samples of the classifier's top probability. */
  meanConfidence: number;
  /** Entropy of the predicted-class histogram / log K (1 = all classes equally often). */
  classEntropy: number;
  /** Fréchet distance of the samples' classifier features to the real training images'. */
  fid: number;
  /** The same distance for the real test images: what a perfect generator would score at this sample size. */
  fidFloor: number;
}

/** Real images (uint8) as floats in 0..1. */
const toUnit = (set: ClassificationSet) => unitRange(set.images);

/**
 * Judges generated images with a trained classifier of the same dataset: its features are the input of
 * its last layer (the penultimate layer: the 128-unit dense layer of `reference-cnn`). FID is measured
 * against the real training images; the floor is the real test images' FID against the same statistics.
 *
 * @example
 * const judge = new GeneratorEvaluator(classifier, dataset.train, dataset.test);
 * const { fid, fidFloor, meanConfidence, classEntropy } = judge.score(samples);
 */
export class GeneratorEvaluator {
  readonly numClasses: number;
  readonly inputShape: [number, number, number];
  private readonly twoHeads: tf.LayersModel;
  private realStats: GaussianStats | null = null;
  private floor: number | null = null;

  constructor(
    readonly classifier: tf.LayersModel,
    readonly realTrain: ClassificationSet,
    readonly realTest: ClassificationSet,
  ) {
    const last = classifier.layers[classifier.layers.length - 1];
    const features = last.input as tf.SymbolicTensor;
    if (Array.isArray(features) || features.shape.length !== 2) {
      throw new Error(`the classifier's last layer '${last.name}' does not take one feature vector; use a classifier written by classify:train`);
    }
    this.twoHeads = tf.model({ inputs: classifier.inputs, outputs: [features, classifier.outputs[0]] });
    this.numClasses = classifier.outputs[0].shape[1] as number;
    this.inputShape = classifier.inputs[0].shape.slice(1) as [number, number, number];
    const same = (s: number[]) => s.every((v, i) => v === this.inputShape[i]);
    if (!same(realTrain.shape)) {
      throw new Error(
        `the classifier takes ${this.inputShape.join('×')} images but the data is ${realTrain.shape.join('×')}; use a classifier trained on this dataset`,
      );
    }
  }

  /** Features [N·d] and class probabilities [N·K] of images in 0..1 (HWC, image after image). */
  run(images: Float32Array, batchSize = 250): { features: Float32Array; probs: Float32Array; dim: number } {
    return readSync(this.runSteps(images, batchSize));
  }

  private *runSteps(images: Float32Array, batchSize = 250): Reads<{ features: Float32Array; probs: Float32Array; dim: number }> {
    const size = this.inputShape[0] * this.inputShape[1] * this.inputShape[2];
    const n = images.length / size;
    if (!Number.isInteger(n)) throw new Error(`images of ${images.length} values are not a whole number of ${this.inputShape.join('×')} images`);
    const dim = (this.twoHeads.outputs[0].shape[1] as number) ?? 0;
    const features = new Float32Array(n * dim);
    const probs = new Float32Array(n * this.numClasses);
    for (let i = 0; i < n; i += batchSize) {
      const m = Math.min(batchSize, n - i);
      const [f, p] = tf.tidy(() => this.twoHeads.predict(tf.tensor4d(images.subarray(i * size, (i + m) * size), [m, ...this.inputShape])) as tf.Tensor[]);
      try {
        features.set(yield f, i * dim);
        probs.set(yield p, i * this.numClasses);
      } finally {
        tf.dispose([f, p]);
      }
    }
    return { features, probs, dim };
  }

  private *ensureReal(): Reads<void> {
    if (this.realStats) return;
    const train = yield* this.runSteps(toUnit(this.realTrain));
    this.realStats = gaussianStats(train.features, train.dim);
    const test = yield* this.runSteps(toUnit(this.realTest));
    this.floor = frechetDistance(gaussianStats(test.features, test.dim), this.realStats);
  }

  /** FID of the real test images against the real training images. */
  get fidFloor(): number {
    readSync(this.ensureReal());
    return this.floor!;
  }

  /** `fidFloor`, read back asynchronously (a GPU backend). */
  async fidFloorAsync(): Promise<number> {
    await readAsync(this.ensureReal());
    return this.floor!;
  }

  /** Confidence, class entropy and FID of generated images in 0..1. */
  score(images: Float32Array): GeneratorScores {
    return readSync(this.scoreSteps(images));
  }

  /** `score`, read back asynchronously (a GPU backend). */
  scoreAsync(images: Float32Array): Promise<GeneratorScores> {
    return readAsync(this.scoreSteps(images));
  }

  private *scoreSteps(images: Float32Array): Reads<GeneratorScores> {
    yield* this.ensureReal();
    const { features, probs, dim } = yield* this.runSteps(images);
    return {
      meanConfidence: meanMaxConfidence(probs, this.numClasses),
      classEntropy: normalizedClassEntropy(probs, this.numClasses),
      fid: frechetDistance(gaussianStats(features, dim), this.realStats!),
      fidFloor: this.floor!,
    };
  }
}
