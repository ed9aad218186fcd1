/** The sample, batch and transform types every SampleLoader part shares (types only, so the parts import no cycle). */
import type { Rng } from '@cv/engine';

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

/** An indexable set of samples. */
export interface SampleSet {
  readonly length: number;
  readonly classNames: string[];
  get(index: number): Sample;
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
 * A geometry-aware augmentation: transforms the image and its boxes and mask together (flip, affine,
 * crop...), drawing from `rng`. Returns a new sample (the input is not modified).
 */
export interface SampleTransform {
  apply(sample: Sample, rng: Rng): Sample;
  /** The transform as data (null when it cannot be), so the loader's worker threads can rebuild it. */
  spec?(set: SampleSet): TransformSpec | null;
}

/** A transform as data, so a loader's worker threads can rebuild it (see `SampleTransform.spec`). */
export interface TransformSpec {
  name: 'flip' | 'affine' | 'hsv' | 'mosaic' | 'compose';
  options: Record<string, unknown>;
  items?: TransformSpec[];
}
