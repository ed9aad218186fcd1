import { deriveSeed, Rng, unitRange } from '@cv/engine';
import { type AugmentConfig, augmentImage, isIdentityAugment } from './augment';
import { type ClassificationSet, imageSize, numImages } from './types';

/** One batch: float pixels in 0..1, NHWC, and class indices. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  /** [B, H, W, C] */
  shape: [number, number, number, number];
}

export interface LoaderOptions {
  batchSize: number;
  /** Shuffle every epoch (seeded). */
  shuffle?: boolean;
  /** Drop the last incomplete batch. */
  dropLast?: boolean;
  augment?: AugmentConfig;
  /** Batches prepared ahead of the consumer (bounds memory to prefetch + 1 batches). */
  prefetch?: number;
}

/**
 * Keeps up to `depth` items of an async iterator in flight ahead of the consumer: bounded memory,
 * overlap of preparation (e.g. sharp decoding) with the training step.
 */
export async function* prefetch<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<IteratorResult<T>>[] = [];
  for (let i = 0; i < depth; i++) queue.push(it.next());
  while (true) {
    const head = await queue.shift()!;
    if (head.done) return;
    queue.push(it.next());
    yield head.value;
  }
}

/**
 * Batches of an in-memory classification set: seeded shuffling and augmentation (the same `seed` gives
 * the same batches), pixels scaled to 0..1.
 *
 * @example
 * const loader = new DataLoader(train, { batchSize: 64, shuffle: true, augment: { flip: 0.5 } });
 * for await (const batch of loader.batches(seed)) { ... }
 */
export class DataLoader {
  constructor(
    readonly set: ClassificationSet,
    readonly options: LoaderOptions,
  ) {
    if (!(options.batchSize >= 1)) throw new Error(`batch size must be ≥ 1, got ${options.batchSize}`);
  }

  get length(): number {
    const n = numImages(this.set);
    return this.options.dropLast ? Math.floor(n / this.options.batchSize) : Math.ceil(n / this.options.batchSize);
  }

  /** Image order for an epoch. */
  order(seed: number): Int32Array {
    const idx = Int32Array.from({ length: numImages(this.set) }, (_, i) => i);
    if (this.options.shuffle) new Rng(deriveSeed(seed, 'shuffle')).shuffle(idx);
    return idx;
  }

  private makeBatch(indices: Int32Array, batchNo: number, seed: number): Batch {
    const { set, options } = this;
    const size = imageSize(set);
    const x = new Float32Array(indices.length * size);
    const y = new Int32Array(indices.length);
    const augment = options.augment && !isIdentityAugment(options.augment) ? options.augment : null;
    const rng = augment ? new Rng(deriveSeed(seed, 'augment', batchNo)) : null;
    for (let i = 0; i < indices.length; i++) {
      const src = set.images.subarray(indices[i] * size, (indices[i] + 1) * size);
      const img = x.subarray(i * size, (i + 1) * size);
      img.set(unitRange(src));
      if (augment) augmentImage(img, set.shape, augment, rng!);
      y[i] = set.labels[indices[i]];
    }
    return { x, y, shape: [indices.length, ...set.shape] };
  }

  private async *generate(seed: number): AsyncGenerator<Batch> {
    const order = this.order(seed);
    const bs = this.options.batchSize;
    for (let b = 0; b < this.length; b++) {
      yield this.makeBatch(order.subarray(b * bs, Math.min(order.length, (b + 1) * bs)), b, seed);
    }
  }

  /** The batches of one epoch; deterministic in `seed`. */
  batches(seed = 0): AsyncIterable<Batch> {
    return prefetch(this.generate(seed), this.options.prefetch ?? 2);
  }
}
