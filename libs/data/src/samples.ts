import { deriveSeed, Rng, unitRange } from '@cv/engine';
import { prefetch } from './loader';
import type { ClassificationSet } from './types';

/**
 * One training sample of any task: the image and whatever targets it has — a class label
 * (classification), boxes with their classes (detection), a per-pixel class mask (segmentation).
 */
export interface Sample {
  /** HWC bytes. */
  image: Uint8Array;
  shape: [number, number, number];
  label?: number;
  /** Boxes as [x1, y1, x2, y2] in pixels, box after box. */
  boxes?: Float32Array;
  /** Class of each box. */
  boxClasses?: Int32Array;
  /** H·W class indices (`IGNORE_INDEX` = not scored). */
  mask?: Uint8Array;
  source?: string;
}

/** Mask value of pixels no loss or metric counts (as torchvision / smp's ignore_index 255). */
export const IGNORE_INDEX = 255;

/** An indexable set of samples. */
export interface SampleSet {
  readonly length: number;
  readonly classNames: string[];
  get(index: number): Sample;
}

/** A classification set as samples (labels only). */
export function classificationSamples(set: ClassificationSet): SampleSet {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    length: set.labels.length,
    classNames: set.classNames,
    get: (i) => ({ image: set.images.subarray(i * size, (i + 1) * size), shape: set.shape, label: set.labels[i], source: set.sources?.[i] }),
  };
}

/** A batch of samples: images in 0..1 and their targets, boxes padded to the most boxes in the batch. */
export interface SampleBatch {
  x: Float32Array;
  /** [B, H, W, C] */
  shape: [number, number, number, number];
  /** Class labels [B] (when the samples have them). */
  y?: Int32Array;
  /** [B, maxBoxes, 4] boxes, zero-padded; `boxCounts[i]` are real. */
  boxes?: Float32Array;
  /** [B, maxBoxes] box classes, −1 where padded. */
  boxClasses?: Int32Array;
  boxCounts?: Int32Array;
  maxBoxes?: number;
  /** [B, H, W] masks. */
  masks?: Uint8Array;
}

/**
 * Stacks samples of one size into a batch; variable-length box lists are padded to the longest (classes −1),
 * so a detector's assigner sees a dense [B, maxBoxes] layout as Ultralytics' collate gives it.
 *
 * @example
 * const batch = collate([a, b]); // batch.boxes: [2, max(nA, nB), 4]
 */
export function collate(samples: Sample[]): SampleBatch {
  if (!samples.length) throw new Error('collate: no samples');
  const shape = samples[0].shape;
  const size = shape[0] * shape[1] * shape[2];
  const b = samples.length;
  const x = new Float32Array(b * size);
  samples.forEach((s, i) => {
    if (s.shape.join() !== shape.join())
      throw new Error(`collate: sample ${i} is ${s.shape.join('×')}, sample 0 is ${shape.join('×')}; resize them to one size first`);
    x.set(unitRange(s.image), i * size);
  });
  const batch: SampleBatch = { x, shape: [b, ...shape] };
  if (samples.every((s) => s.label !== undefined)) batch.y = Int32Array.from(samples, (s) => s.label!);
  if (samples.some((s) => s.boxes)) {
    const counts = Int32Array.from(samples, (s) => (s.boxes?.length ?? 0) / 4);
    const maxBoxes = Math.max(0, ...counts);
    const boxes = new Float32Array(b * maxBoxes * 4);
    const boxClasses = new Int32Array(b * maxBoxes).fill(-1);
    samples.forEach((s, i) => {
      if (!s.boxes) return;
      if (s.boxClasses?.length !== counts[i]) throw new Error(`collate: sample ${i} has ${counts[i]} boxes but ${s.boxClasses?.length ?? 0} box classes`);
      boxes.set(s.boxes, i * maxBoxes * 4);
      boxClasses.set(s.boxClasses, i * maxBoxes);
    });
    Object.assign(batch, { boxes, boxClasses, boxCounts: counts, maxBoxes });
  }
  if (samples.some((s) => s.mask)) {
    const hw = shape[0] * shape[1];
    const masks = new Uint8Array(b * hw).fill(IGNORE_INDEX);
    samples.forEach((s, i) => {
      if (s.mask && s.mask.length !== hw) throw new Error(`collate: sample ${i}'s mask has ${s.mask.length} pixels, its image ${hw}`);
      if (s.mask) masks.set(s.mask, i * hw);
    });
    batch.masks = masks;
  }
  return batch;
}

/**
 * A geometry-aware augmentation: transforms the image and its boxes and mask together (flip, affine,
 * crop...), drawing from `rng`. Returns a new sample (the input is not modified).
 */
export interface SampleTransform {
  apply(sample: Sample, rng: Rng): Sample;
}

/** Horizontal flip with probability `p`: pixels, mask and box x-coordinates mirrored together. */
export class RandomFlip implements SampleTransform {
  constructor(readonly p = 0.5) {}

  apply(s: Sample, rng: Rng): Sample {
    if (!(rng.next() < this.p)) return s;
    const [h, w, c] = s.shape;
    const image = new Uint8Array(s.image.length);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < c; k++) image[(y * w + x) * c + k] = s.image[(y * w + (w - 1 - x)) * c + k];
      }
    }
    const mask = s.mask ? new Uint8Array(s.mask.length) : undefined;
    if (mask) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = s.mask![y * w + (w - 1 - x)];
    const boxes = s.boxes ? Float32Array.from(s.boxes) : undefined;
    if (boxes) {
      for (let i = 0; i < boxes.length; i += 4) {
        const x1 = boxes[i];
        boxes[i] = w - boxes[i + 2];
        boxes[i + 2] = w - x1;
      }
    }
    return { ...s, image, mask, boxes };
  }
}

export interface AffineRange {
  /** Max rotation in degrees (±). */
  degrees?: number;
  /** Max relative scale change (±). */
  scale?: number;
  /** Max translation, fraction of the size (±). */
  translate?: number;
  /** Boxes whose transformed area keeps less than this fraction, or narrower than `minSize` px, are dropped (Ultralytics' candidate rule). */
  minAreaRatio?: number;
  minSize?: number;
}

/**
 * Random rotation, scale and translation about the centre: the image resampled bilinearly (grey 114
 * outside), the mask by nearest neighbour (ignore outside), each box replaced by the bounding box of its
 * transformed corners, clipped; boxes that all but leave the image are dropped with their classes.
 */
export class RandomAffine implements SampleTransform {
  constructor(readonly range: AffineRange) {}

  apply(s: Sample, rng: Rng): Sample {
    const [h, w, c] = s.shape;
    const { degrees = 0, scale = 0, translate = 0, minAreaRatio = 0.1, minSize = 2 } = this.range;
    const angle = (degrees * Math.PI * rng.uniform(-1, 1)) / 180;
    const k = 1 + scale * rng.uniform(-1, 1);
    const tx = translate * w * rng.uniform(-1, 1);
    const ty = translate * h * rng.uniform(-1, 1);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const cx = w / 2;
    const cy = h / 2;
    // Forward map (pixel-centre coordinates): p' = R·k·(p − c) + c + t; the inverse samples the source.
    const forward = (x: number, y: number): [number, number] => [
      k * (cos * (x - cx) - sin * (y - cy)) + cx + tx,
      k * (sin * (x - cx) + cos * (y - cy)) + cy + ty,
    ];
    const identity = angle === 0 && k === 1 && tx === 0 && ty === 0;
    const image = identity ? s.image : new Uint8Array(s.image.length);
    const mask = s.mask && !identity ? new Uint8Array(s.mask.length) : s.mask;
    if (!identity) {
      const src = s.image;
      // Inverse map of pixel centres, row by row: source = M·(x + 0.5, y + 0.5) + o.
      const m00 = cos / k,
        m01 = sin / k,
        m10 = -sin / k,
        m11 = cos / k;
      for (let y = 0; y < h; y++) {
        const v = y + 0.5 - cy - ty;
        for (let x = 0; x < w; x++) {
          const u = x + 0.5 - cx - tx;
          const sx = m00 * u + m01 * v + cx;
          const sy = m10 * u + m11 * v + cy;
          const fx = sx - 0.5;
          const fy = sy - 0.5;
          const x0 = Math.floor(fx);
          const y0 = Math.floor(fy);
          const ax = fx - x0;
          const ay = fy - y0;
          const o = (y * w + x) * c;
          const in00 = x0 >= 0 && x0 < w && y0 >= 0 && y0 < h;
          const in01 = x0 + 1 >= 0 && x0 + 1 < w && y0 >= 0 && y0 < h;
          const in10 = x0 >= 0 && x0 < w && y0 + 1 >= 0 && y0 + 1 < h;
          const in11 = x0 + 1 >= 0 && x0 + 1 < w && y0 + 1 >= 0 && y0 + 1 < h;
          const p00 = (y0 * w + x0) * c;
          const p10 = p00 + w * c;
          const w00 = (1 - ax) * (1 - ay),
            w01 = ax * (1 - ay),
            w10 = (1 - ax) * ay,
            w11 = ax * ay;
          for (let ch = 0; ch < c; ch++) {
            const v00 = in00 ? src[p00 + ch] : 114;
            const v01 = in01 ? src[p00 + c + ch] : 114;
            const v10 = in10 ? src[p10 + ch] : 114;
            const v11 = in11 ? src[p10 + c + ch] : 114;
            image[o + ch] = Math.round(w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11);
          }
          if (mask) {
            const nx = Math.floor(sx);
            const ny = Math.floor(sy);
            mask[y * w + x] = nx >= 0 && nx < w && ny >= 0 && ny < h ? s.mask![ny * w + nx] : IGNORE_INDEX;
          }
        }
      }
    }
    let boxes = s.boxes;
    let boxClasses = s.boxClasses;
    if (s.boxes) {
      const kept: number[] = [];
      const keptClasses: number[] = [];
      for (let i = 0; i < s.boxes.length; i += 4) {
        const [x1, y1, x2, y2] = s.boxes.subarray(i, i + 4);
        const corners = [forward(x1, y1), forward(x2, y1), forward(x1, y2), forward(x2, y2)];
        const nx1 = Math.max(0, Math.min(...corners.map((p) => p[0])));
        const ny1 = Math.max(0, Math.min(...corners.map((p) => p[1])));
        const nx2 = Math.min(w, Math.max(...corners.map((p) => p[0])));
        const ny2 = Math.min(h, Math.max(...corners.map((p) => p[1])));
        const area = Math.max(0, nx2 - nx1) * Math.max(0, ny2 - ny1);
        const before = (x2 - x1) * (y2 - y1) * k * k;
        if (nx2 - nx1 > minSize && ny2 - ny1 > minSize && area > minAreaRatio * before) {
          kept.push(nx1, ny1, nx2, ny2);
          keptClasses.push(s.boxClasses?.[i / 4] ?? 0);
        }
      }
      boxes = Float32Array.from(kept);
      boxClasses = Int32Array.from(keptClasses);
    }
    return { ...s, image, mask, boxes, boxClasses };
  }
}

/**
 * Colour jitter (pixels only; boxes and masks unchanged): brightness scaled by 1 ± `brightness`, saturation
 * by 1 ± `saturation` (blend with the pixel's grey value), as a cheap stand-in for HSV jitter.
 */
export class ColorJitter implements SampleTransform {
  constructor(readonly range: { brightness?: number; saturation?: number }) {}

  apply(s: Sample, rng: Rng): Sample {
    const { brightness = 0, saturation = 0 } = this.range;
    if (!brightness && !saturation) return s;
    const kb = 1 + brightness * rng.uniform(-1, 1);
    const ks = 1 + saturation * rng.uniform(-1, 1);
    const c = s.shape[2];
    const image = new Uint8Array(s.image.length);
    for (let i = 0; i < s.image.length; i += c) {
      const grey = c === 3 ? 0.299 * s.image[i] + 0.587 * s.image[i + 1] + 0.114 * s.image[i + 2] : s.image[i];
      for (let k = 0; k < c; k++) image[i + k] = Math.max(0, Math.min(255, Math.round((grey + (s.image[i + k] - grey) * ks) * kb)));
    }
    return { ...s, image };
  }
}

/** Transforms in order. */
export class Compose implements SampleTransform {
  constructor(readonly transforms: SampleTransform[]) {}
  apply(s: Sample, rng: Rng): Sample {
    return this.transforms.reduce((acc, t) => t.apply(acc, rng), s);
  }
}

export interface SampleLoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  dropLast?: boolean;
  /** Geometry-aware augmentation of each sample (seeded per batch). */
  transform?: SampleTransform;
  prefetch?: number;
}

/**
 * Batches of any task's samples: seeded shuffle and augmentation (the same seed gives the same batches),
 * `collate` for variable-length targets. The loader for detection and segmentation.
 *
 * @example
 * const loader = new SampleLoader(set, { batchSize: 16, shuffle: true, transform: new Compose([new RandomFlip(), new RandomAffine({ scale: 0.3 })]) });
 * for await (const batch of loader.batches(seed)) { ... batch.boxes ... }
 */
export class SampleLoader {
  constructor(
    readonly set: SampleSet,
    readonly options: SampleLoaderOptions,
  ) {
    if (!(options.batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${options.batchSize}`);
  }

  get length(): number {
    const n = this.set.length;
    return this.options.dropLast ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
  }

  private async *generate(seed: number): AsyncGenerator<SampleBatch> {
    const order = Int32Array.from({ length: this.set.length }, (_, i) => i);
    if (this.options.shuffle) new Rng(deriveSeed(seed, 'shuffle')).shuffle(order);
    const bs = this.options.batchSize;
    for (let b = 0; b < this.length; b++) {
      const rng = new Rng(deriveSeed(seed, 'augment', b));
      const picked = Array.from(order.subarray(b * bs, Math.min(order.length, (b + 1) * bs)), (i) => this.set.get(i));
      yield collate(this.options.transform ? picked.map((s) => this.options.transform!.apply(s, rng)) : picked);
    }
  }

  /** The batches of one epoch; deterministic in `seed`. */
  batches(seed = 0): AsyncIterable<SampleBatch> {
    return prefetch(this.generate(seed), this.options.prefetch ?? 2);
  }
}
