import * as tf from '@tensorflow/tfjs';
import { Rng } from '@cv/engine/core';

/** The shape of a DCGAN pair: image size, latent size, widths, and the optional class condition. */
export interface DcganSpec {
  /** [H, W, C] of the images; H = W, a multiple of 4 (28×28×1, 32×32×3, 64×64×3...). */
  imageShape: [number, number, number];
  /** Latent vector size (the paper's 100). */
  latentDim: number;
  /** Channels of the generator's last hidden map and the discriminator's first (the paper's ngf / ndf). */
  width: number;
  /** Number of classes for the class-conditional variant; 0 = unconditional. */
  numClasses: number;
  /** Seed of the N(0, 0.02) initialisers. */
  seed: number;
}

/** How many ×2 up-samplings from the projection to the image: 28 → 7·2², 32 → 4·2³, 64 → 4·2⁴. */
export function upsamplings(size: number): number {
  if (!Number.isInteger(size) || size < 8 || size % 4 !== 0) {
    throw new Error(`image size ${size} is not supported; use a multiple of 4, at least 8 (e.g. 28, 32, 64)`);
  }
  let n = 0;
  let s = size;
  while (s % 2 === 0 && s > 7) {
    s /= 2;
    n++;
  }
  return n;
}

/** N(0, 0.02) weights and N(1, 0.02) BatchNorm scales, as in the DCGAN paper's reference code. */
const normal = (rng: Rng, mean = 0) => tf.initializers.randomNormal({ mean, stddev: 0.02, seed: rng.seed() });

const batchNorm = (rng: Rng, name: string) => tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, gammaInitializer: normal(rng, 1), name });

/**
 * The DCGAN generator: z (and, if conditional, the one-hot label, concatenated) → dense projection to a
 * (H/2ⁿ)×(W/2ⁿ)×(width·2ⁿ⁻¹) map → BN → ReLU → n transposed convolutions (4×4, stride 2), halving the
 * channels each time, BN + ReLU on all but the last → tanh image in [-1, 1].
 *
 * @example
 * const g = createGenerator({ imageShape: [28, 28, 1], latentDim: 100, width: 64, numClasses: 0, seed: 0 });
 * const images = g.predict(tf.randomNormal([16, 100])); // [16, 28, 28, 1]
 */
export function createGenerator(spec: DcganSpec): tf.LayersModel {
  const [h, w, c] = spec.imageShape;
  const n = upsamplings(h);
  const rng = new Rng(spec.seed);
  const z = tf.input({ shape: [spec.latentDim], name: 'z' }); // [B, latent]
  const label = spec.numClasses ? tf.input({ shape: [spec.numClasses], name: 'label' }) : null; // [B, K] one-hot
  let x: tf.SymbolicTensor = label ? (tf.layers.concatenate({ name: 'z_label' }).apply([z, label]) as tf.SymbolicTensor) : z;
  const h0 = h >> n;
  const w0 = w >> n;
  let channels = spec.width * 2 ** (n - 1);
  x = tf.layers.dense({ units: h0 * w0 * channels, useBias: false, kernelInitializer: normal(rng), name: 'project' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reshape({ targetShape: [h0, w0, channels], name: 'project_reshape' }).apply(x) as tf.SymbolicTensor; // [B, h0, w0, ch]
  x = batchNorm(rng, 'project_bn').apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU({ name: 'project_relu' }).apply(x) as tf.SymbolicTensor;
  for (let i = 1; i <= n; i++) {
    const last = i === n;
    channels = last ? c : channels / 2;
    x = tf.layers
      .conv2dTranspose({
        filters: channels,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        useBias: last,
        kernelInitializer: normal(rng),
        name: `up${i}`,
      })
      .apply(x) as tf.SymbolicTensor; // [B, h0·2^i, w0·2^i, channels]
    if (last) x = tf.layers.activation({ activation: 'tanh', name: 'tanh' }).apply(x) as tf.SymbolicTensor;
    else {
      x = batchNorm(rng, `up${i}_bn`).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `up${i}_relu` }).apply(x) as tf.SymbolicTensor;
    }
  }
  return tf.model({ inputs: label ? [z, label] : [z], outputs: x, name: 'generator' });
}

/**
 * The DCGAN discriminator: image (and, if conditional, the label embedded by a dense layer into one extra
 * H×W channel) → n strided 4×4 convolutions (width, 2·width, ...) with LeakyReLU(0.2), BatchNorm on all but
 * the first → flatten → one logit (no sigmoid: losses use the logit directly).
 */
export function createDiscriminator(spec: DcganSpec): tf.LayersModel {
  const [h, w, c] = spec.imageShape;
  const n = upsamplings(h);
  const rng = new Rng(spec.seed ^ 0xd15c);
  const image = tf.input({ shape: [h, w, c], name: 'image' });
  const label = spec.numClasses ? tf.input({ shape: [spec.numClasses], name: 'label' }) : null;
  let x: tf.SymbolicTensor = image;
  if (label) {
    let e = tf.layers.dense({ units: h * w, kernelInitializer: normal(rng), name: 'label_embed' }).apply(label) as tf.SymbolicTensor;
    e = tf.layers.reshape({ targetShape: [h, w, 1], name: 'label_map' }).apply(e) as tf.SymbolicTensor;
    x = tf.layers.concatenate({ name: 'image_label' }).apply([image, e]) as tf.SymbolicTensor; // [B, H, W, C+1]
  }
  let channels = spec.width;
  for (let i = 1; i <= n; i++) {
    x = tf.layers
      .conv2d({
        filters: channels,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        useBias: i === 1,
        kernelInitializer: normal(rng),
        name: `down${i}`,
      })
      .apply(x) as tf.SymbolicTensor; // [B, H/2^i, W/2^i, channels]
    if (i > 1) x = batchNorm(rng, `down${i}_bn`).apply(x) as tf.SymbolicTensor;
    x = tf.layers.leakyReLU({ alpha: 0.2, name: `down${i}_lrelu` }).apply(x) as tf.SymbolicTensor;
    channels *= 2;
  }
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  const logit = tf.layers.dense({ units: 1, kernelInitializer: normal(rng), name: 'logit' }).apply(x) as tf.SymbolicTensor; // [B, 1]
  return tf.model({ inputs: label ? [image, label] : [image], outputs: logit, name: 'discriminator' });
}
