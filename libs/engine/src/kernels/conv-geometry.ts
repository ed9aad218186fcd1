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
  if (pt || pb || pl || pr)
    y = tf.pad(y, [
      [0, 0],
      [pt, pb],
      [pl, pr],
      [0, 0],
    ]);
  return y;
}

/**
 * Inserts (s-1) zeros after every row/column: the "fractionally strided" input that turns the gradient of
 * a stride-s convolution into a stride-1 one. Output: [N, H*sh, W*sw, C] (trailing zeros included).
 */
export function zeroInsert(x: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return x;
  const [n, h, w, c] = x.shape;
  const spread = tf.pad(tf.reshape(x, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, h * sh, w * sw, c]);
}

/**
 * The input window each filter tap sees: for tap (a, b) the strided slice of the padded NHWC input
 * starting at (a·dh, b·dw) with step (sh, sw), shape [N, outH, outW, C]. Taps in row-major (kh, kw) order.
 */
export function tapSlices(xPadded: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D[] {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw, outHeight: oh, outWidth: ow } = info;
  const [n, , , c] = xPadded.shape;
  const taps: tf.Tensor4D[] = [];
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      if (sh === 1 && sw === 1) taps.push(tf.slice(xPadded, [0, a * dh, b * dw, 0], [n, oh, ow, c]));
      else {
        const end = [n, a * dh + (oh - 1) * sh + 1, b * dw + (ow - 1) * sw + 1, c];
        taps.push(tf.stridedSlice(xPadded, [0, a * dh, b * dw, 0], end, [1, sh, sw, 1]) as tf.Tensor4D);
      }
    }
  }
  return taps;
}

/**
 * The padded input of a strided convolution as columns [sh·sw·C, (N+1)·hq·wq]: rows grouped by stride
 * phase (row offset mod sh, column offset mod sw) then channel; columns run over images, then phase rows
 * and columns. Filter tap (a, b) sees, for every output position, the contiguous column range starting
 * at ⌊a/sh⌋·wq + ⌊b/sw⌋ in the rows of phase (a mod sh, b mod sw); positions past the output grid read
 * neighbouring pixels, which meet zero-padded gradients. One extra all-zero image gives the last shifts
 * room. Only rank ≤ 4 transposes (wasm's higher-rank ones fall back to slow JS).
 */
export function phaseColumns(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): { phases: tf.Tensor2D; hq: number; wq: number; length: number } {
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [n, h, w, c] = x.shape;
  const hq = oh + Math.floor((kh - 1) / sh);
  const wq = ow + Math.floor((kw - 1) / sw);
  const { top, left } = info.padInfo;
  const fitted = padOrCrop(x, top, sh * hq - h - top, left, sw * wq - w - left); // [n, sh·hq, sw·wq, C]
  const xPadded = tf.pad(fitted, [
    [0, 1],
    [0, 0],
    [0, 0],
    [0, 0],
  ]);
  const total = (n + 1) * hq * wq;
  let phases: tf.Tensor2D;
  if (sh === 1 && sw === 1) phases = tf.reshape(tf.transpose(xPadded, [3, 0, 1, 2]), [c, total]);
  else {
    const rowPhase = tf.transpose(tf.reshape(xPadded, [(n + 1) * hq, sh, wq * sw * c]), [1, 0, 2]); // [sh, n'·hq, wq·sw·C]
    const colPhase = tf.transpose(tf.reshape(rowPhase, [sh * (n + 1) * hq, wq, sw, c]), [2, 0, 1, 3]); // [sw, sh·n'·hq, wq, C]
    const grouped = tf.transpose(tf.reshape(colPhase, [sw, sh, total, c]), [1, 0, 3, 2]); // [sh, sw, C, n'·hq·wq]
    phases = tf.reshape(grouped, [sh * sw * c, total]);
  }
  return { phases, hq, wq, length: n * hq * wq };
}

/** Tap (a, b)'s window of `phaseColumns`: [C, length]. */
export function tapWindow(phases: tf.Tensor2D, info: tf.backend_util.Conv2DInfo, c: number, wq: number, length: number, a: number, b: number): tf.Tensor2D {
  const { strideHeight: sh, strideWidth: sw } = info;
  const phase = (a % sh) * sw + (b % sw);
  const shift = Math.floor(a / sh) * wq + Math.floor(b / sw);
  return tf.slice(phases, [phase * c, shift], [c, length]);
}

/** NCHW ⇄ NHWC helpers for kernels whose `dataFormat` attr may be 'NCHW'. */
export const toNHWC = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 2, 3, 1]);
export const toNCHW = (x: tf.Tensor4D): tf.Tensor4D => tf.transpose(x, [0, 3, 1, 2]);
export const shapeToNHWC = (s: Shape4): Shape4 => [s[0], s[2], s[3], s[1]];
