import * as tf from '@tensorflow/tfjs';
import { SeededDropout } from '@cv/engine/core';
import { DilatedCausalConv1D, MaskedGlobalAveragePooling1D } from './layers';

export const SEQUENCE_MODELS = ['conv1d', 'tcn'] as const;
export type SequenceModelName = (typeof SEQUENCE_MODELS)[number];

export interface SequenceModelSpec {
  /** Time steps (null: any length) and features per step. */
  steps: number | null;
  features: number;
  numClasses: number;
  /** Channels of every conv layer. */
  width?: number;
  kernelSize?: number;
  dropout?: number;
  /** TCN: dilations of the residual blocks (default 1, 2, 4, … up to a receptive field ≥ steps). */
  dilations?: number[];
  seed?: number;
}

/** Receptive field of the TCN: 1 + 2·(k − 1)·Σ dilations (two causal convs per block). */
export const tcnReceptiveField = (kernelSize: number, dilations: number[]) => 1 + 2 * (kernelSize - 1) * dilations.reduce((a, b) => a + b, 0);

/** Dilations 1, 2, 4, … until the receptive field covers `steps` (at least 4 blocks). */
export function defaultDilations(steps: number | null, kernelSize: number): number[] {
  const d = [1, 2, 4, 8];
  while (steps && tcnReceptiveField(kernelSize, d) < steps) d.push(d[d.length - 1] * 2);
  return d;
}

/**
 * 1-D CNNs for sequence classification, with inputs `x` [T, F] and `mask` [T, 1] (padding = 0):
 * - `conv1d`: a plain stack — Conv1D(k) + BN + ReLU ×2, max-pool /2, ×2 with 2× channels, masked mean, Dense.
 *   (The mask is pooled by the same stride, so padding stays out of the mean.)
 * - `tcn`: a temporal convolutional network (Bai et al. 2018): residual blocks of two dilated causal
 *   Conv1D + BatchNorm (per channel, so causal at inference; the paper uses weight norm) + ReLU + dropout, a 1×1 conv on the skip when channels change, dilations doubling; the masked mean
 *   of the last block, Dense. Causal: step t sees steps ≤ t only, so right padding never leaks into valid steps.
 */
export function createSequenceModel(name: SequenceModelName, spec: SequenceModelSpec): tf.LayersModel {
  const { steps, features, numClasses, width = 64, kernelSize = 3, dropout = 0.1, seed = 0 } = spec;
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s++ });
  const x = tf.input({ shape: [steps, features], name: 'x' });
  const mask = tf.input({ shape: [steps, 1], name: 'mask' });
  let h: tf.SymbolicTensor = x;
  let m: tf.SymbolicTensor = mask;
  if (name === 'conv1d') {
    for (const [stage, c] of [width, width * 2].entries()) {
      for (let i = 0; i < 2; i++) {
        h = tf.layers
          .conv1d({ filters: c, kernelSize, padding: 'same', useBias: false, kernelInitializer: init(), name: `s${stage}_conv${i}` })
          .apply(h) as tf.SymbolicTensor;
        h = tf.layers.batchNormalization({ momentum: 0.9, name: `s${stage}_bn${i}` }).apply(h) as tf.SymbolicTensor;
        h = tf.layers.reLU({ name: `s${stage}_relu${i}` }).apply(h) as tf.SymbolicTensor;
        h = tf.layers.multiply({ name: `s${stage}_mask${i}` }).apply([h, m]) as tf.SymbolicTensor; // padding stays 0
      }
      h = tf.layers.maxPooling1d({ poolSize: 2, padding: 'same', name: `s${stage}_pool` }).apply(h) as tf.SymbolicTensor;
      m = tf.layers.maxPooling1d({ poolSize: 2, padding: 'same', name: `s${stage}_mask_pool` }).apply(m) as tf.SymbolicTensor;
    }
  } else {
    const dilations = spec.dilations ?? defaultDilations(steps, kernelSize);
    dilations.forEach((d, b) => {
      const skip =
        (h.shape[2] as number) === width
          ? h
          : (tf.layers.conv1d({ filters: width, kernelSize: 1, kernelInitializer: init(), name: `b${b}_skip` }).apply(h) as tf.SymbolicTensor);
      let y = h;
      for (let i = 0; i < 2; i++) {
        y = new DilatedCausalConv1D({ filters: width, kernelSize, dilationRate: d, kernelInitializer: init(), name: `b${b}_conv${i}` }).apply(
          y,
        ) as tf.SymbolicTensor;
        y = tf.layers.batchNormalization({ momentum: 0.9, name: `b${b}_bn${i}` }).apply(y) as tf.SymbolicTensor;
        y = tf.layers.reLU({ name: `b${b}_relu${i}` }).apply(y) as tf.SymbolicTensor;
        if (dropout > 0) y = new SeededDropout({ rate: dropout, name: `b${b}_drop${i}` }).apply(y) as tf.SymbolicTensor;
      }
      h = tf.layers.reLU({ name: `b${b}_out` }).apply(tf.layers.add({ name: `b${b}_add` }).apply([y, skip]) as tf.SymbolicTensor) as tf.SymbolicTensor;
    });
  }
  const pooled = new MaskedGlobalAveragePooling1D({ name: 'masked_mean' }).apply([h, m]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: s++ }), name: 'head' })
    .apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: [x, mask], outputs: out, name });
}
