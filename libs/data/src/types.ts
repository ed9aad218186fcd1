/** An in-memory image classification set: uint8 pixels, HWC, row-major per image. */
export interface ClassificationSet {
  /** N·H·W·C bytes, image after image. */
  images: Uint8Array;
  /** Class index of each image (int32: image folders may have any number of classes). */
  labels: Int32Array;
  /** [H, W, C] of every image. */
  shape: [number, number, number];
  classNames: string[];
  /** Where each image came from (file path or `<dataset>#<index>`), for reports and errors. */
  sources?: string[];
}

/** A dataset with its fixed train/test split. */
export interface ClassificationDataset {
  name: string;
  train: ClassificationSet;
  test: ClassificationSet;
  /** How the split was made, for model cards and reports. */
  splitDescription: string;
}

export const numImages = (set: ClassificationSet): number => set.labels.length;
export const imageSize = (set: ClassificationSet): number => set.shape[0] * set.shape[1] * set.shape[2];

/** A subset of a set by image indices (copies the pixels). */
export function subset(set: ClassificationSet, indices: ArrayLike<number>): ClassificationSet {
  const size = imageSize(set);
  const images = new Uint8Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  const sources = set.sources ? ([] as string[]) : undefined;
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(set.images.subarray(j * size, (j + 1) * size), i * size);
    labels[i] = set.labels[j];
    sources?.push(set.sources![j]);
  }
  return { images, labels, shape: set.shape, classNames: set.classNames, sources };
}

/**
 * The first `limit` images of a set, class-balanced: ⌊limit/K⌋ of each class in their order (the first
 * `limit mod K` classes get one more), so a small limit never starves a class.
 *
 * @example
 * const small = balancedHead(dataset.train, 1000); // 100 per class for 10 classes
 */
export function balancedHead(set: ClassificationSet, limit: number): ClassificationSet {
  const k = set.classNames.length;
  if (limit >= set.labels.length) return set;
  const quota = Array.from({ length: k }, (_, c) => Math.floor(limit / k) + (c < limit % k ? 1 : 0));
  const picked: number[] = [];
  for (let i = 0; i < set.labels.length && picked.length < limit; i++) {
    if (quota[set.labels[i]] > 0) {
      quota[set.labels[i]]--;
      picked.push(i);
    }
  }
  return subset(set, picked);
}

/**
 * Only the images of the given classes, relabelled 0..k−1 in the order given (class names follow).
 *
 * @example
 * const shoes = selectClasses(train, [5, 7, 9]); // Sandal, Sneaker, Ankle boot → 0, 1, 2
 */
export function selectClasses(set: ClassificationSet, classes: number[]): ClassificationSet {
  const bad = classes.find((c) => !(Number.isInteger(c) && c >= 0 && c < set.classNames.length));
  if (bad !== undefined) throw new Error(`class ${bad} does not exist; classes are 0..${set.classNames.length - 1} (${set.classNames.join(', ')})`);
  const newLabel = new Map(classes.map((c, i) => [c, i]));
  const picked: number[] = [];
  set.labels.forEach((l, i) => {
    if (newLabel.has(l)) picked.push(i);
  });
  const sub = subset(set, picked);
  sub.labels = Int32Array.from(sub.labels, (l) => newLabel.get(l)!);
  return { ...sub, classNames: classes.map((c) => set.classNames[c]) };
}
