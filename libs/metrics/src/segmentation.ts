/**
 * Semantic-segmentation metrics from one dataset-level confusion matrix (as torchmetrics / smp compute them
 * over a whole set, not averaged per image): per-class IoU and Dice, mIoU with and without background,
 * pixel accuracy. A class absent from both truth and prediction has no IoU (null) and is left out of the means.
 */

/** Pixels [truth][predicted] over a set; truth pixels equal to `ignoreIndex` are not counted. */
export class SegmentationConfusion {
  readonly counts: Float64Array;

  constructor(
    readonly numClasses: number,
    readonly ignoreIndex = 255,
  ) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds one image (or batch) of class indices; `where` names it in errors. */
  add(truth: ArrayLike<number>, pred: ArrayLike<number>, where = 'mask'): this {
    if (truth.length !== pred.length) throw new Error(`${where}: ${truth.length} truth pixels but ${pred.length} predicted`);
    const k = this.numClasses;
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i];
      if (t === this.ignoreIndex) continue;
      const p = pred[i];
      if (!(t >= 0 && t < k)) throw new Error(`${where}: truth value ${t} at pixel ${i} is not a class (0..${k - 1}) or the ignore value ${this.ignoreIndex}`);
      if (!(p >= 0 && p < k)) throw new Error(`${where}: predicted value ${p} at pixel ${i} is not a class (0..${k - 1})`);
      this.counts[t * k + p]++;
    }
    return this;
  }

  merge(other: SegmentationConfusion): this {
    other.counts.forEach((v, i) => (this.counts[i] += v));
    return this;
  }

  /** [truth][predicted] as plain rows. */
  matrix(): number[][] {
    const k = this.numClasses;
    return Array.from({ length: k }, (_, t) => Array.from(this.counts.subarray(t * k, (t + 1) * k)));
  }
}

export interface SegmentationMetrics {
  /** IoU per class, null where the class is in neither truth nor prediction. */
  perClassIou: (number | null)[];
  /** Dice (F1) per class, null likewise. */
  dice: (number | null)[];
  /** Mean IoU over the classes other than `background` that have one. */
  miou: number;
  /** Mean IoU over every class that has one. */
  miouAll: number;
  meanDice: number;
  pixelAccuracy: number;
  pixels: number;
}

const mean = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN;
};

/**
 * The metrics of a confusion matrix. `background` is the class left out of `miou` (default 0; −1 keeps all).
 *
 * @example
 * const m = segmentationMetrics(new SegmentationConfusion(4).add(truth, pred)); // m.miou, m.perClassIou[2]
 */
export function segmentationMetrics(cm: SegmentationConfusion, { background = 0 } = {}): SegmentationMetrics {
  const k = cm.numClasses;
  const c = cm.counts;
  const perClassIou: (number | null)[] = [];
  const dice: (number | null)[] = [];
  let correct = 0;
  let total = 0;
  for (let i = 0; i < k; i++) {
    const tp = c[i * k + i];
    let fn = 0;
    let fp = 0;
    for (let j = 0; j < k; j++) {
      if (j === i) continue;
      fn += c[i * k + j];
      fp += c[j * k + i];
    }
    const union = tp + fp + fn;
    perClassIou.push(union > 0 ? tp / union : null);
    dice.push(union > 0 ? (2 * tp) / (2 * tp + fp + fn) : null);
    correct += tp;
    for (let j = 0; j < k; j++) total += c[i * k + j];
  }
  return {
    perClassIou,
    dice,
    miou: mean(perClassIou.filter((_, i) => i !== background)),
    miouAll: mean(perClassIou),
    meanDice: mean(dice.filter((_, i) => i !== background)),
    pixelAccuracy: total ? correct / total : NaN,
    pixels: total,
  };
}
