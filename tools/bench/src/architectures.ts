import * as tf from '@tensorflow/tfjs';
import { createClassifier } from '@cv/tasks-classify';

type ST = tf.SymbolicTensor;

/** A benchmark row: a network, its input and a target of the same shape as its output. */
export interface BenchNet {
  name: string;
  inputShape: [number, number, number];
  batch: number;
  build(): tf.LayersModel;
  /** 'ce' for class probabilities, 'mse' for dense maps. */
  loss: 'ce' | 'mse';
  /** Timed training steps by default (big rows take fewer). */
  steps: number;
}

const conv = (filters: number, kernelSize: number, strides: number, activation: string, name: string) =>
  tf.layers.conv2d({ filters, kernelSize, strides, padding: 'same', activation: activation as 'relu', name });

/** U-Net stage: conv3×3 ×2, max-pool, conv3×3 ×2, transposed conv stride 2, concat skip, conv, 1×1 head. */
function unetStage(): tf.LayersModel {
  const input = tf.input({ shape: [128, 128, 3] });
  let c1 = conv(32, 3, 1, 'relu', 'enc1a').apply(input) as ST;
  c1 = conv(32, 3, 1, 'relu', 'enc1b').apply(c1) as ST; // [B, 128, 128, 32]
  let x = tf.layers.maxPooling2d({ poolSize: 2 }).apply(c1) as ST; // [B, 64, 64, 32]
  x = conv(64, 3, 1, 'relu', 'enc2a').apply(x) as ST;
  x = conv(64, 3, 1, 'relu', 'enc2b').apply(x) as ST; // [B, 64, 64, 64]
  x = tf.layers.conv2dTranspose({ filters: 32, kernelSize: 2, strides: 2, padding: 'same', name: 'up' }).apply(x) as ST; // [B, 128, 128, 32]
  x = tf.layers.concatenate().apply([x, c1]) as ST; // [B, 128, 128, 64]
  x = conv(32, 3, 1, 'relu', 'dec1').apply(x) as ST;
  const out = conv(1, 1, 1, 'linear', 'head').apply(x) as ST; // [B, 128, 128, 1]
  return tf.model({ inputs: input, outputs: out, name: 'unet-stage' });
}

/** YOLO-style stage: conv stride 2 + BN + SiLU ×3, upsample ×2, concat, 1×1 conv + BN + SiLU, 1×1 head. */
function yoloStage(): tf.LayersModel {
  const input = tf.input({ shape: [160, 160, 3] });
  const cbs = (x: ST, filters: number, k: number, s: number, name: string) => {
    let y = tf.layers.conv2d({ filters, kernelSize: k, strides: s, padding: 'same', useBias: false, name }).apply(x) as ST;
    y = tf.layers.batchNormalization({ name: `${name}_bn` }).apply(y) as ST;
    return tf.layers.activation({ activation: 'swish', name: `${name}_silu` }).apply(y) as ST; // SiLU
  };
  let x = cbs(input, 16, 3, 2, 'c1'); // [B, 80, 80, 16]
  const p3 = cbs(x, 32, 3, 2, 'c2'); // [B, 40, 40, 32]
  x = cbs(p3, 64, 3, 2, 'c3'); // [B, 20, 20, 64]
  x = tf.layers.upSampling2d({ size: [2, 2], name: 'up' }).apply(x) as ST; // [B, 40, 40, 64]
  x = tf.layers.concatenate().apply([x, p3]) as ST; // [B, 40, 40, 96]
  x = cbs(x, 32, 1, 1, 'neck');
  const out = tf.layers.conv2d({ filters: 8, kernelSize: 1, padding: 'same', name: 'head' }).apply(x) as ST; // [B, 40, 40, 8]
  return tf.model({ inputs: input, outputs: out, name: 'yolo-stage' });
}

export const BENCH_NETS: BenchNet[] = [
  {
    name: 'reference-cnn',
    inputShape: [28, 28, 1],
    batch: 64,
    loss: 'ce',
    steps: 30,
    build: () => createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 }),
  },
  { name: 'unet-stage', inputShape: [128, 128, 3], batch: 8, loss: 'mse', steps: 6, build: unetStage },
  { name: 'yolo-stage', inputShape: [160, 160, 3], batch: 8, loss: 'mse', steps: 30, build: yoloStage },
];
