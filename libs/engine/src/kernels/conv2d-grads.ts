import * as tf from '@tensorflow/tfjs';
import { convGeometry, padOrCrop, phaseColumns, shapeToNHWC, tapWindow, toNCHW, toNHWC, zeroInsert } from './conv-geometry';

type Attrs = Record<string, any>;
type Shape4 = [number, number, number, number];

/** Above this many im2col elements the batch is split into chunks whose filter gradients are summed. */
const MAX_COLUMN_ELEMENTS = 1 << 24;

/**
 * dL/dW of a 2-D convolution as one plain matmul [kh·kw·Cin, L] × [L, Cout] over the taps' windows.
 *
 * The padded input is laid out by `phaseColumns` so that each tap's window is one contiguous slice
 * per row; positions past the output grid meet zeros in dy (padded to [N, Hq, Wq, Cout]).
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
  let dw: tf.Tensor | null = null;
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const xs = size === n ? x : tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]);
    const dys = size === n ? dy : tf.slice(dy, [start, 0, 0, 0], [size, -1, -1, -1]);
    const { phases, length } = phaseColumns(xs, info);
    const dyCols = tf.reshape(padOrCrop(dys, 0, hq - oh, 0, wq - ow), [length, cout]); // zeros off the output grid
    const windows: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) windows.push(tapWindow(phases, info, cin, wq, length, a, b));
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
