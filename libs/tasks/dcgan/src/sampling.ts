import * as tf from '@tensorflow/tfjs';
import { type InferenceModel, readAsync, type Reads, readSync, Rng } from '@cv/engine/core';

/** Generator sampling: latent draws, interpolation, class-conditional inputs, image grids. No Node imports. */

/** `n` standard-normal latent vectors, drawn from `seed` alone (the same on every backend and resume). */
export function latentVectors(n: number, dim: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * dim }, () => rng.normal());
}

/**
 * The generator's inputs: z, plus the one-hot label for a class-conditional model.
 *
 * @example
 * const images = generator.predict(generatorInputs(generator, z, labels)) as tf.Tensor4D;
 */
export function generatorInputs(generator: InferenceModel, z: tf.Tensor2D, labels?: tf.Tensor1D): tf.Tensor[] {
  const numClasses = conditionalClasses(generator);
  if (!numClasses) return [z];
  if (!labels) throw new Error('a class-conditional generator needs labels');
  return [z, tf.oneHot(labels, numClasses).toFloat()];
}

/** Number of classes of a class-conditional generator or discriminator (0 when unconditional). */
export function conditionalClasses(model: InferenceModel): number {
  return model.inputs.length > 1 ? (model.inputs[1].shape[1] as number) : 0;
}

/**
 * Generates images in [0, 1] (HWC floats, image after image) from given latent vectors, in batches, with
 * the generator in inference mode (BatchNorm moving statistics).
 */
export function generateImages(generator: InferenceModel, z: Float32Array, labels?: Int32Array, batchSize = 250): Float32Array {
  return readSync(generateSteps(generator, z, labels, batchSize));
}

/** `generateImages` read back asynchronously (a GPU backend has no synchronous read in Node). */
export function generateImagesAsync(generator: InferenceModel, z: Float32Array, labels?: Int32Array, batchSize = 250): Promise<Float32Array> {
  return readAsync(generateSteps(generator, z, labels, batchSize));
}

function* generateSteps(generator: InferenceModel, z: Float32Array, labels: Int32Array | undefined, batchSize: number): Reads<Float32Array> {
  const latentDim = generator.inputs[0].shape[1] as number;
  const n = z.length / latentDim;
  const [h, w, c] = generator.outputs[0].shape.slice(1) as number[];
  const size = h * w * c;
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i += batchSize) {
    const m = Math.min(batchSize, n - i);
    const images = tf.tidy(() => {
      const zb = tf.tensor2d(z.subarray(i * latentDim, (i + m) * latentDim), [m, latentDim]);
      const lb = labels ? tf.tensor1d(labels.subarray(i, i + m), 'int32') : undefined;
      const g = generator.predict(generatorInputs(generator, zb, lb)) as tf.Tensor;
      return tf.clipByValue(tf.div(tf.add(g, 1), 2), 0, 1);
    });
    try {
      out.set(yield images, i * size);
    } finally {
      images.dispose();
    }
  }
  return out;
}

/** Spherical interpolation between two latent vectors (the path stays where N(0, I) has its mass). */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const cos = Math.min(1, Math.max(-1, a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b))));
  const omega = Math.acos(cos);
  if (omega < 1e-6) return a.map((x, i) => (1 - t) * x + t * b[i]);
  const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const wb = Math.sin(t * omega) / Math.sin(omega);
  return a.map((x, i) => wa * x + wb * b[i]);
}

/**
 * Lays out images (floats in 0..1, HWC) as a grid with `pad` dark pixels between cells; returns uint8
 * pixels for `writePng`.
 */
export function imageGrid(
  images: Float32Array,
  [h, w, c]: [number, number, number],
  cols: number,
  pad = 2,
): { pixels: Uint8Array; shape: [number, number, number] } {
  const n = images.length / (h * w * c);
  const rows = Math.ceil(n / cols);
  const gh = rows * h + (rows + 1) * pad;
  const gw = cols * w + (cols + 1) * pad;
  const pixels = new Uint8Array(gh * gw * c).fill(48);
  for (let i = 0; i < n; i++) {
    const top = pad + Math.floor(i / cols) * (h + pad);
    const left = pad + (i % cols) * (w + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) {
          const v = images[((i * h + y) * w + x) * c + k];
          pixels[((top + y) * gw + left + x) * c + k] = Math.round(Math.min(1, Math.max(0, v)) * 255);
        }
      }
    }
  }
  return { pixels, shape: [gh, gw, c] };
}
