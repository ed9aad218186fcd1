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
 * dL/dx of a 2-D convolution as forward stride-1 convolutions (XNNPACK does the work), with the filter
 * spatially flipped and its in/out channels swapped. Stride 1: one convolution of the padded dy. Equal
 * strides s > 1: the sub-pixel form — input pixels of phase (ry, rx) = ((i + pad) mod s) only meet filter
 * taps of that phase, so s² small convolutions of the undilated dy with those taps, interleaved by
 * DepthToSpace, do exactly the multiply-adds needed (the zero-spread form does s² times more).
 */
export function conv2DBackpropInput(inputs: Record<string, tf.Tensor>, attrs: Attrs): tf.Tensor {
  const nchw = attrs.dataFormat === 'NCHW';
  const dy = nchw ? toNHWC(inputs.dy as tf.Tensor4D) : (inputs.dy as tf.Tensor4D);
  const filter = inputs.filter as tf.Tensor4D; // [kh, kw, Cin, Cout]
  const inShape = nchw ? shapeToNHWC(attrs.inputShape) : (attrs.inputShape as Shape4);
  const info = convGeometry(inShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  const dx =
    info.strideHeight > 1 && info.strideHeight === info.strideWidth
      ? subPixelBackpropInput(dy, filter, info, inShape)
      : transposedAsForward(dy, info, inShape, (spread) => {
          const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D; // [kh, kw, Cout, Cin]
          return tf.conv2d(spread, flipped, 1, 'valid');
        });
  return nchw ? toNCHW(dx) : dx;
}

/**
 * The s² phase convolutions of `conv2DBackpropInput` for stride s in both axes, run as ONE convolution:
 * each phase's flipped taps are one group of output channels of a [T, T, Cout, s²·Cin] kernel (T = ⌈k/s⌉,
 * phases with fewer taps zero-padded at the front, so all read the same window of dy). The phase outputs
 * are interleaved by one rank-4 transpose (wasm's DepthToSpace and higher-rank transposes are slow paths).
 */
function subPixelBackpropInput(dy: tf.Tensor4D, filter: tf.Tensor4D, info: tf.backend_util.Conv2DInfo, inShape: Shape4): tf.Tensor4D {
  const s = info.strideHeight;
  const [kh, kw, cin, cout] = filter.shape;
  const [n, oh, ow] = dy.shape;
  const { top, left } = info.padInfo;
  // Input row i = q·s + r − top: phase r, phase-grid row q in [q0, q0 + Q); same for columns.
  const q0y = Math.floor(top / s);
  const q0x = Math.floor(left / s);
  const qy = Math.floor((inShape[1] - 1 + top) / s) - q0y + 1;
  const qx = Math.floor((inShape[2] - 1 + left) / s) - q0x + 1;
  const th = Math.ceil(kh / s); // most taps of any phase
  const tw = Math.ceil(kw / s);
  const swapped = tf.transpose(filter, [0, 1, 3, 2]); // [kh, kw, Cout, Cin]
  const zeroTap = tf.zeros([1, 1, cout, cin]);
  const groups: tf.Tensor[] = [];
  for (let ry = 0; ry < s; ry++) {
    for (let rx = 0; rx < s; rx++) {
      // Kernel row j reads dy[q − th + 1 + j]; it holds tap row ry + s·(th − 1 − j) when that exists.
      const rows: tf.Tensor[] = [];
      for (let j = 0; j < th; j++) {
        const a = ry + s * (th - 1 - j);
        const cols: tf.Tensor[] = [];
        for (let l = 0; l < tw; l++) {
          const b = rx + s * (tw - 1 - l);
          cols.push(a < kh && b < kw ? tf.slice(swapped, [a, b, 0, 0], [1, 1, cout, cin]) : zeroTap);
        }
        rows.push(cols.length > 1 ? tf.concat(cols, 1) : cols[0]);
      }
      groups.push(rows.length > 1 ? tf.concat(rows, 0) : rows[0]); // [th, tw, Cout, Cin]
    }
  }
  const kernel = tf.concat(groups, 3) as tf.Tensor4D; // [th, tw, Cout, (ry, rx, Cin)]
  const padTop = th - 1 - q0y;
  const padLeft = tw - 1 - q0x;
  const padded = padOrCrop(dy, padTop, qy + th - 1 - oh - padTop, padLeft, qx + tw - 1 - ow - padLeft);
  const phases = tf.conv2d(padded, kernel, 1, 'valid'); // [N, Qy, Qx, (ry, rx, c)]
  // → [N·Qy, Qx, ry, (rx, c)] → [N·Qy, ry, Qx, (rx, c)] = [N, Qy·s, Qx·s, Cin].
  const stacked = tf.reshape(phases, [n * qy, qx, s, s * cin]);
  const full = tf.reshape(tf.transpose(stacked, [0, 2, 1, 3]), [n, qy * s, qx * s, cin]);
  return padOrCrop(full as tf.Tensor4D, -(top % s), inShape[1] - qy * s + (top % s), -(left % s), inShape[2] - qx * s + (left % s));
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
