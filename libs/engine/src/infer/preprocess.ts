import * as tf from '@tensorflow/tfjs';

/**
 * Model-input preprocessing, the one place it is written: pure TypeScript on tfjs ops, so training data,
 * `predict`, the server and the browser prepare an image identically. No Node imports.
 */

/** A decoded image: HWC bytes, row-major (a canvas' ImageData is one with channels = 4). */
export interface DecodedImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** How a model's input is made from an image of any size. */
export interface InputSpec {
  /** [H, W, C] of the model input. */
  shape: [number, number, number];
  /** 'resize' stretches to the input size (classification); 'letterbox' keeps the aspect ratio and pads (detection). */
  fit?: 'resize' | 'letterbox';
}

/** Letterbox geometry: input pixel = image pixel · scale + pad. */
export interface LetterboxTransform {
  scale: number;
  padX: number;
  padY: number;
  /** Size of the original image. */
  width: number;
  height: number;
}

/** Grey value of letterbox padding (Ultralytics' 114). */
export const LETTERBOX_PAD = 114;

/** Bytes → floats in 0..1 (plain arrays; `toUnitRange` is the tensor version, bit-identical). */
export function unitRange(bytes: ArrayLike<number>): Float32Array {
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] / 255;
  return out;
}

/** Pixel values 0..255 → 0..1. */
export function toUnitRange(x: tf.Tensor): tf.Tensor {
  return tf.div(tf.cast(x, 'float32'), 255);
}

function checkImage(img: DecodedImage, where: string): void {
  const { width, height, channels, data } = img;
  if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height)))
    throw new Error(`${where}: width and height must be positive integers, got ${width}×${height}`);
  if (![1, 2, 3, 4].includes(channels)) throw new Error(`${where}: channels must be 1, 2, 3 or 4, got ${channels}`);
  if (data.length !== width * height * channels)
    throw new Error(`${where}: ${data.length} bytes for ${width}×${height}×${channels} (= ${width * height * channels})`);
}

/**
 * An image as a float [H, W, C] tensor of 0..255 values with the wanted channels: alpha dropped, RGB →
 * grey by BT.601 luma (0.299 R + 0.587 G + 0.114 B, as PIL's 'L'), grey → RGB by repetition.
 */
export function imageTensor(img: DecodedImage, channels: 1 | 3, where = 'image'): tf.Tensor3D {
  checkImage(img, where);
  return tf.tidy(() => {
    // Whole 0..255 values are exact in float32; `new Float32Array(bytes)` converts natively (TypedArray.from and a
    // cast from int32 cost several times more per image).
    let x = tf.tensor3d(new Float32Array(img.data), [img.height, img.width, img.channels], 'float32');
    if (img.channels === 2 || img.channels === 4) x = tf.slice(x, [0, 0, 0], [-1, -1, img.channels - 1]);
    const c = x.shape[2];
    if (channels === 1 && c === 3) x = tf.sum(tf.mul(x, tf.tensor1d([0.299, 0.587, 0.114])), -1, true);
    if (channels === 3 && c === 1) x = tf.tile(x, [1, 1, 3]);
    return x as tf.Tensor3D;
  });
}

/** Resizes a [H, W, C] (or [B, H, W, C]) tensor with the suite's interpolation, rounded to whole 0..255 values. */
export function resizePixels<T extends tf.Tensor3D | tf.Tensor4D>(x: T, [h, w]: [number, number]): T {
  return tf.tidy(() => {
    if (x.shape[x.rank - 3] === h && x.shape[x.rank - 2] === w) return tf.clone(x);
    return tf.clipByValue(tf.round(tf.image.resizeBilinear(x, [h, w], false, true)), 0, 255) as T;
  });
}

/** Scales an image to fit [h, w] keeping its aspect ratio, centred on grey padding. */
export function letterbox(x: tf.Tensor3D, [h, w]: [number, number]): { pixels: tf.Tensor3D; transform: LetterboxTransform } {
  const [ih, iw] = x.shape;
  const scale = Math.min(h / ih, w / iw);
  const nh = Math.max(1, Math.round(ih * scale));
  const nw = Math.max(1, Math.round(iw * scale));
  const padY = Math.floor((h - nh) / 2);
  const padX = Math.floor((w - nw) / 2);
  if (nh === h && nw === w) return { pixels: resizePixels(x, [h, w]), transform: { scale, padX, padY, width: iw, height: ih } };
  const pixels = tf.tidy(
    () =>
      tf.pad(
        resizePixels(x, [nh, nw]),
        [
          [padY, h - nh - padY],
          [padX, w - nw - padX],
          [0, 0],
        ],
        LETTERBOX_PAD,
      ) as tf.Tensor3D,
  );
  return { pixels, transform: { scale, padX, padY, width: iw, height: ih } };
}

/**
 * Boxes [x1, y1, x2, y2, ...] in model-input pixels back to the original image's pixels (the inverse of
 * `letterbox`), clipped to the image.
 */
export function unletterboxBoxes(boxes: ArrayLike<number>, t: LetterboxTransform): Float32Array {
  const out = new Float32Array(boxes.length);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = Math.min(t.width, Math.max(0, (boxes[i] - t.padX) / t.scale));
    out[i + 1] = Math.min(t.height, Math.max(0, (boxes[i + 1] - t.padY) / t.scale));
    out[i + 2] = Math.min(t.width, Math.max(0, (boxes[i + 2] - t.padX) / t.scale));
    out[i + 3] = Math.min(t.height, Math.max(0, (boxes[i + 3] - t.padY) / t.scale));
  }
  return out;
}

/**
 * An image at a model's input size as whole 0..255 values, [H, W, C] floats: channels converted, then
 * resized (or letterboxed). Training data and every Predictor go through this function.
 */
export function fitImage(img: DecodedImage, spec: InputSpec, where = 'image'): { pixels: tf.Tensor3D; transform: LetterboxTransform } {
  const [h, w, c] = spec.shape;
  const x = imageTensor(img, c as 1 | 3, where);
  try {
    if (spec.fit === 'letterbox') return letterbox(x, [h, w]);
    return { pixels: resizePixels(x, [h, w]), transform: { scale: 1, padX: 0, padY: 0, width: img.width, height: img.height } };
  } finally {
    x.dispose();
  }
}

/** Fitted pixels as bytes (for datasets held in memory as uint8). */
export async function fitImageBytes(img: DecodedImage, spec: InputSpec, where = 'image'): Promise<Uint8Array> {
  return (await fitImageToBytes(img, spec, where)).bytes;
}

/**
 * Fitted pixels as bytes with the letterbox transform that maps boxes onto them (detection datasets). Read back
 * asynchronously (a GPU backend has no synchronous read in Node).
 */
export async function fitImageToBytes(img: DecodedImage, spec: InputSpec, where = 'image'): Promise<{ bytes: Uint8Array; transform: LetterboxTransform }> {
  const { pixels, transform } = fitImage(img, spec, where);
  try {
    return { bytes: Uint8Array.from(await pixels.data()), transform };
  } finally {
    pixels.dispose();
  }
}

type PixelWriter = (images: DecodedImage[], shape: [number, number, number, number]) => tf.Tensor4D | null;
let pixelWriter: PixelWriter | null = null;

/**
 * Set by the native kernels' registration (Node): writes a batch of images already at the input size straight
 * into one float tensor as bytes / 255 (the values `toUnitRange` gives), or returns null to leave it to tfjs.
 */
export function setPixelWriter(write: PixelWriter | null): void {
  pixelWriter = write;
}

/**
 * A batch of decoded images of any sizes as the model's input: [B, H, W, C] floats in 0..1, with each
 * image's letterbox transform (identity scale for 'resize').
 *
 * @example
 * const { x, transforms } = prepareInput([{ data, width: 640, height: 480, channels: 4 }], { shape: [224, 224, 3] });
 */
export function prepareInput(images: DecodedImage[], spec: InputSpec): { x: tf.Tensor4D; transforms: LetterboxTransform[] } {
  if (!images.length) throw new Error('prepareInput: no images');
  const [h, w, c] = spec.shape;
  if (images.every((img) => img.width === w && img.height === h && img.channels === c && img.data.length === h * w * c)) {
    // Images already at the input size with the input's channels (a validation set, a camera at the model's size):
    // nothing to resize, pad or convert, so the batch's bytes are copied once (natively converted to floats) and
    // scaled by one op — the same values as the per-image path.
    const written = pixelWriter?.(images, [images.length, h, w, c]);
    const bytes = written ? null : new Float32Array(images.length * h * w * c);
    images.forEach((img, i) => bytes?.set(img.data, i * h * w * c));
    const x = written ?? tf.tidy(() => toUnitRange(tf.tensor4d(bytes!, [images.length, h, w, c])) as tf.Tensor4D);
    return { x, transforms: images.map((img) => ({ scale: 1, padX: 0, padY: 0, width: img.width, height: img.height })) };
  }
  const fitted = images.map((img, i) => fitImage(img, spec, `image ${i}`));
  const x = tf.tidy(() => toUnitRange(tf.stack(fitted.map((f) => f.pixels))) as tf.Tensor4D);
  tf.dispose(fitted.map((f) => f.pixels));
  return { x, transforms: fitted.map((f) => f.transform) };
}
