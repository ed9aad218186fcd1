import * as tf from '@tensorflow/tfjs';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type Pair = number | [number, number];
type Shape4 = [number, number, number, number];

/** Output geometry of a (depthwise) 2-D convolution over an NHWC input, as tfjs computes it. */
export function convGeometry(
  xShape: Shape4,
  filterShape: Shape4,
  strides: Pair,
  dilations: Pair,
  pad: Pad,
  dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, depthwise);
}

/** Pads (positive amounts) or crops (negative amounts) the H and W axes of an NHWC tensor. */
export function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [ct, cb, cl, cr] = [top, bottom, left, right].map((v) => Math.max(0, -v));
  let y = x;
  if (ct || cb || cl || cr) y = tf.slice(y, [0, ct, cl, 0], [n, h - ct - cb, w - cl - cr, c]);
  const [pt, pb, pl, pr] = [top, bottom, left, right].map((v) => Math.max(0, v));
  if (pt || pb || pl || pr) y = tf.pad(y, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
  return y;
}

/**
 * Inserts (s-1) zeros after every row/column: the "fractionally strided" input that turns the gradient of
 * a stride-s convolution into a stride-1 one. Output: [N, H*sh, W*sw, C] (trailing zeros included).
 */
export function zeroInsert(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/**
 * The input window each filter tap sees: for tap (a, b) the strided slice of the padded input starting
 * at (a·dh, b·dw) with step (sh, sw), spatial size [outH, outW]. Taps in row-major (kh, kw) order.
 * `spatialAxes` says where H and W are: [1, 2] for NHWC, [2, 3] for a [C, N, H, W] layout.
 */
export function tapSlices(
  xPadded: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  spatialAxes: [1, 2] | [2, 3] = [1, 2],
): tf.Tensor4D[] {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, outHeight: oh, outWidth: ow } = info;
  const [ha, wa] = spatialAxes;
  const taps: tf.Tensor4D[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      const begin = [0, 0, 0, 0];
      const size = [...xPadded.shape];
      begin[ha] = a * dh;
      begin[wa] = b * dw;
      if (sh === 1 && sw === 1) {
        size[ha] = oh;
        size[wa] = ow;
        taps.push(tf.slice(xPadded, begin, size));
      } else {
        const end = [...xPadded.shape];
        end[ha] = a * dh + (oh - 1) * sh + 1;
        end[wa] = b * dw + (ow - 1) * sw + 1;
        const steps = [1, 1, 1, 1];
        steps[ha] = sh;
        steps[wa] = sw;
        taps.push(tf.stridedSlice(xPadded, begin, end, steps) as tf.Tensor4D);
      }
    }
  }
  return taps;
}

/** NCHW ⇄ NHWC helpers for kernels whose `dataFormat` attr may be 'NCHW'. */
export const toNHWC = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 2, 3, 1]);
export const toNCHW = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 3, 1, 2]);
export const shapeToNHWC = (s: Shape4): Shape4 => [s[0], s[2], s[3], s[1]];
