import { deriveSeed, type InferenceModel, type Predictor } from '@cv/engine/core';
import { generateImages, generateImagesAsync, latentVectors, slerp } from './sampling';

/** What a saved generator carries in model.json's `userDefinedMetadata`. */
export interface GeneratorMetadata {
  [key: string]: unknown;
  task: 'dcgan';
  latentDim: number;
  imageShape: [number, number, number];
  /** Class names of a class-conditional generator; [] for an unconditional one. */
  classNames: string[];
  /** Class names of the training data (for evaluation against real images). */
  datasetClassNames: string[];
  dataset: string;
  epochs: number;
  /** Decay of the weight average the saved generator is (absent: the raw generator). */
  ema?: number;
}

/** What to draw from a generator. */
export interface SampleRequest {
  /** Images (or interpolation frames). */
  n: number;
  /** Seed of the latent vectors (interpolation: between seeds `seed` and `seed + 1`). */
  seed?: number;
  /** Class-conditional generators: draw only this class (default: classes in turn). */
  classIndex?: number;
  /** n frames along the great circle between two latent vectors instead of n independent draws. */
  interpolate?: boolean;
}

export interface Samples {
  /** Images in 0..1, HWC, image after image. */
  images: Float32Array;
  shape: [number, number, number];
  /** Class of each image (conditional generators). */
  labels?: Int32Array;
}

/** Reads and checks a generator's metadata. */
export function generatorMetadata(model: InferenceModel, where = 'model'): GeneratorMetadata {
  const meta = model.getUserDefinedMetadata() as Partial<GeneratorMetadata> | undefined;
  if (meta?.task !== 'dcgan' || !meta.latentDim || !meta.imageShape) {
    throw new Error(`${where} is not a DCGAN generator (no dcgan metadata in model.json); pass a folder written by dcgan:train`);
  }
  return meta as GeneratorMetadata;
}

/**
 * Samples a trained DCGAN generator: latent draws from a seed (the same images on every backend),
 * spherical interpolation, class-conditional draws. Pure tfjs: Node and the browser alike.
 *
 * @example
 * const gan = new GanPredictor(generator);
 * const { images, shape } = gan.sample({ n: 16, seed: 1, classIndex: 7 });
 */
export class GanPredictor implements Predictor {
  readonly task = 'dcgan';
  readonly metadata: GeneratorMetadata;

  constructor(readonly model: InferenceModel) {
    this.metadata = generatorMetadata(model);
  }

  /** The latent vectors (and labels) of a request. */
  latents({ n, seed = 1, classIndex, interpolate = false }: SampleRequest): { z: Float32Array; labels?: Int32Array } {
    const d = this.metadata.latentDim;
    const k = this.metadata.classNames.length;
    if (!(Number.isInteger(n) && n >= 1)) throw new Error(`n must be a positive integer (got ${n})`);
    if (classIndex !== undefined && !k)
      throw new Error('a class needs a class-conditional generator; this one is unconditional (train one with --conditional)');
    if (classIndex !== undefined && !(Number.isInteger(classIndex) && classIndex >= 0 && classIndex < k)) {
      throw new Error(`class ${classIndex} does not exist; classes 0..${k - 1}: ${this.metadata.classNames.join(', ')}`);
    }
    let z: Float32Array;
    if (interpolate) {
      const a = latentVectors(1, d, deriveSeed(seed, 'sample'));
      const b = latentVectors(1, d, deriveSeed(seed + 1, 'sample'));
      z = new Float32Array(n * d);
      for (let i = 0; i < n; i++) z.set(slerp(a, b, n === 1 ? 0 : i / (n - 1)), i * d);
    } else z = latentVectors(n, d, deriveSeed(seed, 'sample'));
    if (!k) return { z };
    return { z, labels: Int32Array.from({ length: n }, (_, i) => classIndex ?? i % k) };
  }

  sample(request: SampleRequest): Samples {
    const { z, labels } = this.latents(request);
    return { images: generateImages(this.model, z, labels), shape: this.metadata.imageShape, labels };
  }

  /** `sample`, read back asynchronously (what a WebGPU backend needs). */
  async sampleAsync(request: SampleRequest): Promise<Samples> {
    const { z, labels } = this.latents(request);
    return { images: await generateImagesAsync(this.model, z, labels), shape: this.metadata.imageShape, labels };
  }

  dispose(): void {
    this.model.dispose();
  }
}
