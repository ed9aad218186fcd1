/**
 * The sequence layers written with stock tfjs layers, for `sequence:export` (tfjs a stock loader reads, and
 * ONNX). Both forms compute the same function; the export checks it on probe inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { registerStockRewrite } from '@cv/engine';
import type { CausalPadding1D, DilatedCausalConv1D } from './layers';

/** [N, T, C] ⇄ [N, T, 1, C], so 2-D layers (ZeroPadding2D, a dilated Conv2D) act along time. */
const toImage = (x: tf.SymbolicTensor, name: string) =>
  tf.layers.reshape({ targetShape: [x.shape[1] ?? -1, 1, x.shape[2] as number], name }).apply(x) as tf.SymbolicTensor;
const toSequence = (x: tf.SymbolicTensor, channels: number, name: string) =>
  tf.layers.reshape({ targetShape: [x.shape[1] ?? -1, channels], name }).apply(x) as tf.SymbolicTensor;
const leftPad = (x: tf.SymbolicTensor, steps: number, name: string) =>
  tf.layers
    .zeroPadding2d({
      padding: [
        [steps, 0],
        [0, 0],
      ],
      name,
    })
    .apply(x) as tf.SymbolicTensor;

/**
 * DilatedCausalConv1D(k, d) = left zero padding of (k − 1)·d steps + a 'valid' convolution of kernel [k, 1] dilated
 * [d, 1]: the kernel [k, Cin, Cout] is the same numbers as [k, 1, Cin, Cout].
 */
function dilatedCausalConv(layer: tf.layers.Layer, [x]: tf.SymbolicTensor[]): tf.SymbolicTensor {
  const l = layer as DilatedCausalConv1D;
  const [kernel, bias] = l.getWeights();
  const cin = x.shape[2] as number;
  let h = leftPad(toImage(x, `${l.name}_as_image`), (l.kernelSize - 1) * l.dilationRate, `${l.name}_pad`);
  const conv = tf.layers.conv2d({
    filters: l.filters,
    kernelSize: [l.kernelSize, 1],
    dilationRate: [l.dilationRate, 1],
    padding: 'valid',
    name: `${l.name}_conv`,
  });
  h = conv.apply(h) as tf.SymbolicTensor;
  conv.setWeights([tf.reshape(kernel, [l.kernelSize, 1, cin, l.filters]), bias]);
  return toSequence(h, l.filters, l.name);
}

function causalPadding(layer: tf.layers.Layer, [x]: tf.SymbolicTensor[]): tf.SymbolicTensor {
  const l = layer as CausalPadding1D;
  return toSequence(leftPad(toImage(x, `${l.name}_as_image`), l.padding, `${l.name}_pad`), x.shape[2] as number, l.name);
}

/**
 * MaskedGlobalAveragePooling1D([h, m]) = Σ_t m·h / max(Σ_t m, 1). The sums are Dot products over time (no fixed length
 * needed; Σ m is the Dot of m with ones, made from m by a Dense with kernel 0 and bias 1); 1 / max(c, 1) is
 * 1 − softsign(relu(c − 1)) = 1 / (1 + relu(c − 1)), exact up to float rounding (≈ 1e-7·c relative).
 */
function maskedMean(layer: tf.layers.Layer, [h, m]: tf.SymbolicTensor[]): tf.SymbolicTensor {
  const n = layer.name;
  const affine = (name: string, w: number, b: number, activation: 'linear' | 'relu', x: tf.SymbolicTensor) => {
    const dense = tf.layers.dense({ units: 1, activation, name });
    const y = dense.apply(x) as tf.SymbolicTensor;
    dense.setWeights([tf.fill([1, 1], w), tf.fill([1], b)]);
    return y;
  };
  const sum = tf.layers.dot({ axes: 1, name: `${n}_sum` }).apply([m, h]) as tf.SymbolicTensor; // [N, 1, C]
  const ones = affine(`${n}_ones`, 0, 1, 'linear', m); // [N, T, 1]
  const count = tf.layers.dot({ axes: 1, name: `${n}_count` }).apply([ones, m]) as tf.SymbolicTensor; // [N, 1, 1]
  let r = affine(`${n}_excess`, 1, -1, 'relu', count); // max(c, 1) − 1
  r = tf.layers.activation({ activation: 'softsign', name: `${n}_softsign` }).apply(r) as tf.SymbolicTensor;
  r = affine(`${n}_inverse`, -1, 1, 'linear', r); // 1 / max(c, 1)
  const mean = tf.layers.multiply({ name: `${n}_mean` }).apply([sum, r]) as tf.SymbolicTensor;
  return tf.layers.flatten({ name: n }).apply(mean) as tf.SymbolicTensor;
}

let registered = false;
/** Registers the stock forms of the sequence layers for export (idempotent; Node, with the engine's export). */
export function registerSequenceStockRewrites(): void {
  if (registered) return;
  registered = true;
  registerStockRewrite('DilatedCausalConv1D', dilatedCausalConv);
  registerStockRewrite('CausalPadding1D', causalPadding);
  registerStockRewrite('MaskedGlobalAveragePooling1D', maskedMean);
}
