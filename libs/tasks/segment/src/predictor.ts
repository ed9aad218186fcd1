import * as tf from '@tensorflow/tfjs';
import {
  type DecodedImage,
  type ImagePredictor,
  type InferenceModel,
  imageTensor,
  LETTERBOX_PAD,
  type PredictTiming,
  prepareInput,
  readAsync,
  type Reads,
  readsBackSync,
  readSync,
  toUnitRange,
} from '@cv/engine/core';

/** What a saved segmenter carries in model.json's `userDefinedMetadata`. */
export interface SegmenterMetadata {
  task: 'segment';
  /** Index = mask value; background first. */
  classNames: string[];
  /** RGB of each class in overlays and the demo. */
  colours: [number, number, number][];
  /** Training input [H, W]: `resize` mode letterboxes images to it. */
  imgsz: [number, number];
  /** Inputs must be a multiple of this (the encoder's largest reduction). */
  reduction: number;
  model?: string;
  [key: string]: unknown;
}

/**
 * How an image meets the model: `resize` — letterboxed to the training size, probabilities resized back
 * (what training saw; the default); `whole` — at its own size, padded to a multiple of the reduction;
 * `tiles` — at its own size in overlapping `tile`×`tile` windows whose probabilities are averaged.
 */
export interface SegmentOptions {
  mode?: 'resize' | 'whole' | 'tiles';
  /** Tile side in pixels (a multiple of the reduction; default the training size). */
  tile?: number;
  /** Overlap of neighbouring tiles in pixels (default a quarter tile). */
  overlap?: number;
}

export interface SegmentationResult {
  /** Class index per pixel, row-major, at the image's own size. */
  mask: Uint8Array;
  width: number;
  height: number;
  /** The winning class's probability per pixel. */
  confidence: Float32Array;
  /** Fraction of the image's pixels per class. */
  pixelShare: number[];
}

/** Distinct overlay colours; class 0 (background) black. */
export const PALETTE: [number, number, number][] = [
  [0, 0, 0],
  [255, 56, 56],
  [44, 153, 168],
  [255, 178, 29],
  [72, 249, 10],
  [207, 210, 49],
  [255, 55, 199],
  [61, 139, 255],
  [132, 56, 255],
  [0, 194, 255],
];

export function colourOf(i: number): [number, number, number] {
  return PALETTE[i % PALETTE.length];
}

/** Reads and checks a segmenter's metadata. */
export function segmenterMetadata(model: InferenceModel, where = 'model'): SegmenterMetadata {
  const meta = model.getUserDefinedMetadata() as Partial<SegmenterMetadata> | undefined;
  if (meta?.task !== 'segment' || !meta.classNames || !meta.imgsz || !meta.reduction)
    throw new Error(
      `${where} has no segmenter metadata (task 'segment', classNames, imgsz, reduction); use a model written by segment:train or segment:export`,
    );
  return { colours: meta.classNames.map((_, i) => colourOf(i)), ...meta } as SegmenterMetadata;
}

/** Argmax and its probability over the last axis of [H, W, C] probabilities. */
function argmaxOf(probs: Float32Array, hw: number, c: number): { mask: Uint8Array; confidence: Float32Array; pixelShare: number[] } {
  const mask = new Uint8Array(hw);
  const confidence = new Float32Array(hw);
  const counts = new Array(c).fill(0);
  for (let i = 0; i < hw; i++) {
    let best = 0;
    let p = probs[i * c];
    for (let k = 1; k < c; k++)
      if (probs[i * c + k] > p) {
        p = probs[i * c + k];
        best = k;
      }
    mask[i] = best;
    confidence[i] = p;
    counts[best]++;
  }
  return { mask, confidence, pixelShare: counts.map((n) => n / hw) };
}

/** Softmax probabilities of a padded [1, H', W', C] input, cropped to [h, w]. */
function* probsAtOwnSize(model: InferenceModel, x: tf.Tensor3D, reduction: number): Reads<Float32Array> {
  const [h, w] = x.shape;
  const ph = Math.ceil(h / reduction) * reduction;
  const pw = Math.ceil(w / reduction) * reduction;
  const out = tf.tidy(() => {
    const padded = tf.pad(
      x,
      [
        [0, ph - h],
        [0, pw - w],
        [0, 0],
      ],
      LETTERBOX_PAD / 255,
    );
    const p = tf.softmax(model.predict(tf.expandDims(padded, 0)) as tf.Tensor4D);
    return tf.slice(p, [0, 0, 0, 0], [1, h, w, -1]);
  });
  try {
    return (yield out) as Float32Array;
  } finally {
    out.dispose();
  }
}

/** Tile origins along one axis: 0, step, ..., with the last tile flush with the end. */
export function tileOrigins(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const step = Math.max(1, tile - overlap);
  const out: number[] = [];
  for (let o = 0; o + tile < size; o += step) out.push(o);
  out.push(size - tile);
  return out;
}

/**
 * Runs a trained segmenter on decoded images of any size: a class mask, per-pixel confidence and class shares
 * at each image's own size (see `SegmentOptions` for how the image meets the model). Pure tfjs: Node and the
 * browser alike. `timing` holds the last call's per-image milliseconds by stage (in the 'whole' and 'tile' modes
 * the model's stage holds the pre- and post-processing too).
 *
 * @example
 * const segmenter = new SegmentationPredictor(model);
 * const [{ mask, width, height }] = segmenter.predict([{ data, width: 640, height: 480, channels: 3 }]);
 */
export class SegmentationPredictor implements ImagePredictor<SegmentationResult> {
  readonly task = 'segment';
  readonly metadata: SegmenterMetadata;
  timing: PredictTiming = { preprocess: 0, inference: 0, postprocess: 0 };

  constructor(
    readonly model: InferenceModel,
    readonly options: SegmentOptions = {},
  ) {
    this.metadata = segmenterMetadata(model);
  }

  predict(images: DecodedImage[], options: SegmentOptions = this.options): SegmentationResult[] {
    return readSync(this.steps(images, options));
  }

  predictAsync(images: DecodedImage[], options: SegmentOptions = this.options): Promise<SegmentationResult[]> {
    return readAsync(this.steps(images, options));
  }

  private *steps(images: DecodedImage[], options: SegmentOptions): Reads<SegmentationResult[]> {
    const t0 = performance.now();
    const mode = options.mode ?? 'resize';
    const c = this.metadata.classNames.length;
    const n = images.length;
    const out: SegmentationResult[] = [];
    if (mode === 'resize') {
      const [H, W] = this.metadata.imgsz;
      const { x, transforms } = prepareInput(images, { shape: [H, W, 3], fit: 'letterbox' });
      const t1 = performance.now();
      const probs = tf.tidy(() => tf.softmax(this.model.predict(x) as tf.Tensor4D));
      x.dispose();
      try {
        // On a GPU backend the ops above were only queued: wait for them, so the stages are charged right.
        if (!readsBackSync()) yield probs;
        const t2 = performance.now();
        for (const [i, t] of transforms.entries()) {
          const nh = Math.max(1, Math.round(t.height * t.scale));
          const nw = Math.max(1, Math.round(t.width * t.scale));
          // tidy returns the tensor, not its data: tidy walks a returned typed array element by element.
          const v = tf.tidy(() => {
            const crop = tf.slice(probs, [i, t.padY, t.padX, 0], [1, nh, nw, c]) as tf.Tensor4D;
            return nh !== t.height || nw !== t.width ? tf.image.resizeBilinear(crop, [t.height, t.width], false, true) : crop;
          });
          try {
            const p = (yield v) as Float32Array;
            out.push({ width: t.width, height: t.height, ...argmaxOf(p, t.width * t.height, c) });
          } finally {
            v.dispose();
          }
        }
        this.timing = { preprocess: (t1 - t0) / n, inference: (t2 - t1) / n, postprocess: (performance.now() - t2) / n };
      } finally {
        probs.dispose();
      }
    } else {
      for (const [i, img] of images.entries()) {
        const x = tf.tidy(() => toUnitRange(imageTensor(img, 3, `image ${i}`)) as tf.Tensor3D);
        try {
          const probs = mode === 'whole' ? yield* probsAtOwnSize(this.model, x, this.metadata.reduction) : yield* this.tiled(x, options);
          out.push({ width: img.width, height: img.height, ...argmaxOf(probs, img.width * img.height, c) });
        } finally {
          x.dispose();
        }
      }
      this.timing = { preprocess: 0, inference: (performance.now() - t0) / n, postprocess: 0 };
    }
    return out;
  }

  /** Probabilities of overlapping tiles averaged per pixel. */
  private *tiled(x: tf.Tensor3D, options: SegmentOptions): Reads<Float32Array> {
    const r = this.metadata.reduction;
    const tile = options.tile ?? this.metadata.imgsz[0];
    if (tile % r) throw new Error(`tile ${tile} is not a multiple of the model's reduction ${r}`);
    const overlap = options.overlap ?? Math.floor(tile / 4);
    const [h, w] = x.shape;
    const c = this.metadata.classNames.length;
    const sum = new Float32Array(h * w * c);
    const count = new Float32Array(h * w);
    for (const oy of tileOrigins(h, tile, overlap)) {
      for (const ox of tileOrigins(w, tile, overlap)) {
        const th = Math.min(tile, h - oy);
        const tw = Math.min(tile, w - ox);
        const window = tf.slice(x, [oy, ox, 0], [th, tw, 3]);
        let p: Float32Array;
        try {
          p = yield* probsAtOwnSize(this.model, window, r);
        } finally {
          window.dispose();
        }
        for (let y = 0; y < th; y++) {
          for (let xx = 0; xx < tw; xx++) {
            const o = (oy + y) * w + ox + xx;
            count[o]++;
            for (let k = 0; k < c; k++) sum[o * c + k] += p[(y * tw + xx) * c + k];
          }
        }
      }
    }
    for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) sum[i * c + k] /= count[i];
    return sum;
  }

  dispose(): void {
    this.model.dispose();
  }
}
