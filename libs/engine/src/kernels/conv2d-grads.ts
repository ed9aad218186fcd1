import * as tf from '@tensorflow/tfjs';
import { convGeometry, padOrCrop, shapeToNHWC, toNCHW, toNHWC, zeroInsert } from './conv-geometry';

type Attrs = Record<string, any>;
type Shape4 = [number, number, number, number];

/** Above this many im2col elements the batch is split into chunks whose filter gradients are summed. */
const MAX_COLUMN_ELEMENTS = 1 << 24;

/**
 * dL/dW of a 2-D convolution as one plain matmul [kh·kw·Cin, L] × [L, Cout] over the taps' windows.
 *
 * The padded input is laid out as [stride phase, Cin, N·Hq·Wq] (phases split by a reshape+transpose, so
 * a stride-s tap is a stride-1 shift inside its phase). Each tap's window is then one contiguous slice
 * of every row, at offset (a/s)·Wq + (b/s): positions past the output grid pick up neighbouring
 * pixels, which meet zeros in dy (padded to [N, Hq, Wq, Cout]) and so contribute nothing. wasm copies
 * such a slice with one memcpy per row, where a 4-D window slice costs one per image row.
 */
export function conv2DBackpropFilter(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const nchw = attrs.dataFormat === 'NCHW';
  const x = nchw ? toNHWC(inputs.x as tf.Tensor4D) : (inputs.x as tf.Tensor4D);
  const dy = nchw ? toNHWC(inputs.dy as tf.Tensor4D) : (inputs.dy as tf.Tensor4D);
  const filterShape = attrs.filterShape as Shape4;
  const info = convGeometry(x.shape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [n, , , cin] = x.shape;
  const cout = filterShape[3];
  const hq = oh + Math.floor((kh - 1) / sh); // rows per stride phase that any tap reads
  const wq = ow + Math.floor((kw - 1) / sw);
  const perImage = hq * wq * Math.max(sh * sw, kh * kw) * cin; // floats of the im2col matrix per image
  const chunk = Math.max(1, Math.min(n, Math.floor(MAX_COLUMN_ELEMENTS / perImage)));
  const { top, left } = info.padInfo;
  const [, h, w] = x.shape;
  let dw: tf.Tensor | null = null;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const xs = size === n ? x : tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]);
    const dys = size === n ? dy : tf.slice(dy, [start, 0, 0, 0], [size, -1, -1, -1]);
    // One extra all-zero image at the end gives every tap's shifted slice room to run past the last image.
    const fitted = padOrCrop(xs, top, sh * hq - h - top, left, sw * wq - w - left); // [n, sh·hq, sw·wq, Cin]
    const xPadded = tf.pad(fitted, [[0, 1], [0, 0], [0, 0], [0, 0]]);
    const length = size * hq * wq;
    const total = (size + 1) * hq * wq;
    let phases: tf.Tensor; // [sh·sw·Cin, (n+1)·hq·wq]
    if (sh === 1 && sw === 1) phases = tf.reshape(tf.transpose(xPadded, [3, 0, 1, 2]), [cin, total]);
    else {
      // [n', hq·sh, wq·sw, C] → [sh, sw, C, n'·hq·wq] in rank ≤ 4 transposes (wasm's higher-rank ones are slow JS).
      const rowPhase = tf.transpose(tf.reshape(xPadded, [(size + 1) * hq, sh, wq * sw * cin]), [1, 0, 2]); // [sh, n'·hq, wq·sw·C]
      const colPhase = tf.transpose(tf.reshape(rowPhase, [sh * (size + 1) * hq, wq, sw, cin]), [2, 0, 1, 3]); // [sw, sh·n'·hq, wq, C]
      const grouped = tf.transpose(tf.reshape(colPhase, [sw, sh, total, cin]), [1, 0, 3, 2]); // [sh, sw, C, n'·hq·wq]
      phases = tf.reshape(grouped, [sh * sw * cin, total]);
    }
    const dyCols = tf.reshape(padOrCrop(dys, 0, hq - oh, 0, wq - ow), [length, cout]); // zeros off the output grid
    const windows: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const phase = (a % sh) * sw + (b % sw);
        const shift = Math.floor(a / sh) * wq + Math.floor(b / sw);
        windows.push(tf.slice(phases, [phase * cin, shift], [cin, length]));
      }
    }
    const part = tf.matMul(tf.concat(windows, 0), dyCols); // [T·Cin, Cout]: one large matmul beats T thin ones
    dw = dw ? tf.add(dw, part) : part;
  }
  return tf.reshape(dw!, filterShape);
}

/**
 * dL/dx of a 2-D convolution as a forward stride-1 convolution (XNNPACK does the work): dy is spread
 * with (s-1) zeros between samples, padded by (k-1-pad), and convolved with the spatially flipped
 * filter whose in/out channels are swapped.
 */
export function conv2DBackpropInput(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const nchw = attrs.dataFormat === 'NCHW';
  const dy = nchw ? toNHWC(inputs.dy as tf.Tensor4D) : (inputs.dy as tf.Tensor4D);
  const filter = inputs.filter as tf.Tensor4D; // [kh, kw, Cin, Cout]
  const inShape = nchw ? shapeToNHWC(attrs.inputShape) : (attrs.inputShape as Shape4);
  const info = convGeometry(inShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  const dx = transposedAsForward(dy, info, inShape, (spread) => {
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, Cout, Cin]
    return tf.conv2d(spread, flipped, 1, 'valid');
  });
  return nchw ? toNCHW(dx) : dx;
}

/**
 * Shared geometry of "gradient w.r.t. the input = stride-1 convolution of the zero-spread gradient":
 * pads/crops so that the valid convolution with the (dilated) kernel returns exactly [N, H, W, ·].
 */
export function transposedAsForward(
  dy: tf.Tensor4D,
  info: tf.backend_util.Conv2DInfo,
  inShape: Shape4,
  convolve: (spread: tf.Tensor4D) => tf.Tensor4D,
): tf.Tensor4D {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const kh = (info.filterHeight - 1) * dh + 1; // effective (dilated) kernel extent
  const kw = (info.filterWidth - 1) * dw + 1;
  const { top, left } = info.padInfo;
  const spread = zeroInsert(dy, sh, sw); // [N, outH·sh, outW·sw, C]
  const [, hs, ws] = spread.shape;
  const padded = padOrCrop(spread, kh - 1 - top, inShape[1] + top - hs, kw - 1 - left, inShape[2] + left - ws);
  return convolve(padded);
}
