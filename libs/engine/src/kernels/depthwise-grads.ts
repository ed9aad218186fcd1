import * as tf from '@tensorflow/tfjs';
import { convGeometry, padOrCrop, phaseColumns, tapSlices, tapWindow } from './conv-geometry';
import { transposedAsForward } from './conv2d-grads';

type Attrs = Record<string, any>;
type Shape4 = [number, number, number, number];

/**
 * dL/dW of a depthwise convolution (filter [kh, kw, C, mult]): for each tap, the strided input window
 * [M, C, 1] times dy [M, C, mult], summed over M = N·outH·outW.
 */
export function depthwiseBackpropFilter(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const x = inputs.x as tf.Tensor4D;
  const dy = inputs.dy as tf.Tensor4D;
  const filterShape = attrs.filterShape as Shape4;
  const info = convGeometry(x.shape, filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  if (info.dilationHeight === 1 && info.dilationWidth === 1) return depthwiseFilterByPhases(x, dy, filterShape, info);
  const [, , , c] = x.shape;
  const mult = filterShape[3];
  const m = x.shape[0] * info.outHeight * info.outWidth;
  const { top, bottom, left, right } = info.padInfo;
  const dyCols = tf.reshape(dy, [m, c, mult]);
  const perTap = tapSlices(padOrCrop(x, top, bottom, left, right), info).map((t) => tf.sum(tf.mul(tf.reshape(t, [m, c, 1]), dyCols), 0)); // T × [C, mult]
  return tf.reshape(tf.stack(perTap), filterShape);
}

/**
 * The undilated case (every depthwise gradient tfjs's autograd asks for): each tap's input window comes
 * from `phaseColumns` as [C, L] and meets dy laid out as [C·mult, L]; the product is summed over the
 * innermost axis (wasm's fast reduction). Only rank ≤ 4 slices and transposes.
 */
function depthwiseFilterByPhases(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: Shape4, info: tf.backend_util.Conv2DInfo): tf.Tensor {
  const [kh, kw, c, mult] = filterShape;
  const { phases, hq, wq, length } = phaseColumns(x, info);
  const dyPadded = padOrCrop(dy, 0, hq - info.outHeight, 0, wq - info.outWidth); // zeros off the output grid
  const dyRows = tf.reshape(tf.transpose(dyPadded, [3, 0, 1, 2]), [c, mult, length]); // channel c·mult+q → [c, q]
  const taps: tf.Tensor[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const window = tf.reshape(tapWindow(phases, info, c, wq, length, a, b), [c, 1, length]);
      taps.push(tf.sum(tf.mul(window, dyRows), 2)); // [C, mult]
    }
  }
  return tf.reshape(tf.stack(taps), filterShape);
}

/**
 * dL/dx of a depthwise convolution: a stride-1 depthwise convolution of the zero-spread dy (C·mult
 * channels) with the flipped filter, then the `mult` outputs of each input channel summed.
 */
export function depthwiseBackpropInput(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const dy = inputs.dy as tf.Tensor4D;
  const filter = inputs.filter as tf.Tensor4D; // [kh, kw, C, mult]
  const inShape = attrs.inputShape as Shape4;
  const info = convGeometry(inShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true);
  const [kh, kw, c, mult] = filter.shape;
  return transposedAsForward(dy, info, inShape, (spread) => {
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, c * mult, 1]) as tf.Tensor4D;
    const dilations: [number, number] = [info.dilationHeight, info.dilationWidth];
    const out = tf.depthwiseConv2d(spread, flipped, 1, 'valid', 'NHWC', dilations); // [N, H, W, C·mult]
    if (mult === 1) return out;
    return tf.sum(tf.reshape(out, [...inShape.slice(0, 3), c, mult]), 4) as tf.Tensor4D;
  });
}
