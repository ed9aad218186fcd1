import { deriveSeed, LoaderTask, nativeImageOps, Rng, shardRange, unitRange } from '@cv/engine';
import { prefetch } from './loader';
import { SampleWorkers } from './sample-workers';
import type { ClassificationSet } from './types';
import type { Sample, SampleBatch, SampleSet, SampleTransform } from './sample-types';

export type { Sample, SampleBatch, SampleSet, SampleTransform } from './sample-types';

/** Mask value of pixels no loss or metric counts (as torchvision / smp's ignore_index 255). */
export const IGNORE_INDEX = 255;

/** A classification set as samples (labels only). */
export function classificationSamples(set: ClassificationSet): SampleSet {
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  return {
    length: set.labels.length,
    classNames: set.classNames,
    get: (i) => ({ image: set.images.subarray(i * size, (i + 1) * size), shape: set.shape, label: set.labels[i], source: set.sources?.[i] }),
  };
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
  const native = nativeImageOps();
  samples.forEach((s, i) => {
    if (s.shape.join() !== shape.join())
      throw new Error(`collate: sample ${i} is ${s.shape.join('×')}, sample 0 is ${shape.join('×')}; resize them to one size first`);
    if (!native?.bytesToUnit(x, i * size, s.image)) x.set(unitRange(s.image), i * size);
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

/** Replica `rank`'s contiguous block of a batch's images and all their targets (labels, padded boxes, masks). */
export function shardSamples(batch: SampleBatch, rank: number, worldSize: number): SampleBatch {
  const [b, h, w, c] = batch.shape;
  const { start, size } = shardRange(b, rank, worldSize);
  const m = batch.maxBoxes ?? 0;
  const out: SampleBatch = { x: batch.x.subarray(start * h * w * c, (start + size) * h * w * c), shape: [size, h, w, c] };
  if (batch.y) out.y = batch.y.subarray(start, start + size);
  if (batch.boxes) {
    Object.assign(out, {
      boxes: batch.boxes.subarray(start * m * 4, (start + size) * m * 4),
      boxClasses: batch.boxClasses?.subarray(start * m, (start + size) * m),
      boxCounts: batch.boxCounts?.subarray(start, start + size),
      maxBoxes: m,
    });
  }
  if (batch.masks) out.masks = batch.masks.subarray(start * h * w, (start + size) * h * w);
  return out;
}

export interface SampleLoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  dropLast?: boolean;
  /** Geometry-aware augmentation of each sample (seeded per batch). */
  transform?: SampleTransform;
  prefetch?: number;
  /**
   * Worker threads that read, augment and collate batches while the step runs (0: this thread). The
   * batches are the same either way. Used only when the transform can be described (`spec`); else 0.
   */
  workers?: number;
}

/** Batch `b` of the epoch with `seed`, made of samples `indices` (what a loader thread or worker makes). */
export function makeBatch(set: SampleSet, indices: ArrayLike<number>, transform: SampleTransform | undefined, seed: number, b: number): SampleBatch {
  const rng = new Rng(deriveSeed(seed, 'augment', b));
  const picked = Array.from(indices, (i) => set.get(i));
  return collate(transform ? picked.map((s) => transform.apply(s, rng)) : picked);
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

  private pool: SampleWorkers | null = null;

  private order(seed: number): Int32Array {
    const order = Int32Array.from({ length: this.set.length }, (_, i) => i);
    if (this.options.shuffle) new Rng(deriveSeed(seed, 'shuffle')).shuffle(order);
    return order;
  }

  private indices(order: Int32Array, b: number): Int32Array {
    const bs = this.options.batchSize;
    return order.slice(b * bs, Math.min(order.length, (b + 1) * bs));
  }

  private async *generate(seed: number): AsyncGenerator<SampleBatch> {
    const order = this.order(seed);
    for (let b = 0; b < this.length; b++) yield makeBatch(this.set, this.indices(order, b), this.options.transform, seed, b);
  }

  /** The workers' batches in order, up to `prefetch` per worker in flight. */
  private async *fromWorkers(pool: SampleWorkers, seed: number): AsyncGenerator<SampleBatch> {
    const order = this.order(seed);
    const depth = Math.max(2, (this.options.prefetch ?? 2) * (this.options.workers ?? 1));
    const queue: Promise<SampleBatch>[] = [];
    let next = 0;
    const submit = () => {
      if (next >= this.length) return;
      const p = pool.run(seed, next, this.indices(order, next++));
      p.catch(() => {}); // a consumer that stops early leaves these unread
      queue.push(p);
    };
    for (let i = 0; i < depth; i++) submit();
    while (queue.length) {
      const batch = await queue.shift()!;
      submit();
      yield batch;
    }
  }

  private workerPool(): SampleWorkers | null {
    const n = this.options.workers ?? 0;
    if (n < 1) return null;
    if (this.pool) return this.pool;
    const spec = this.options.transform ? (this.options.transform.spec?.(this.set) ?? null) : null;
    if (this.options.transform && !spec) return null; // a transform the workers cannot rebuild: this thread
    this.pool = new SampleWorkers(this.set, spec, n);
    return this.pool;
  }

  /** The batches of one epoch; deterministic in `seed` (and the same with any number of workers). */
  batches(seed = 0): AsyncIterable<SampleBatch> {
    const pool = this.workerPool();
    return pool ? this.fromWorkers(pool, seed) : prefetch(this.generate(seed), this.options.prefetch ?? 2);
  }

  /** Stops the worker threads (they are started again if more batches are asked for). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}

/**
 * A LoaderTask over `SampleBatch`es (detection, segmentation): images per batch and each replica's contiguous
 * block of a batch come from the batch itself; a task adds its loss step.
 *
 * @example
 * class MyTask extends SampleBatchTask { trainStep(batch, ctx) { ... } }
 */
export abstract class SampleBatchTask extends LoaderTask<SampleBatch> {
  batchSize(batch: SampleBatch): number {
    return batch.shape[0];
  }

  /** Replica `rank`'s contiguous block of images (and their padded targets or masks). */
  shard(batch: SampleBatch, rank: number, worldSize: number): SampleBatch {
    return shardSamples(batch, rank, worldSize);
  }
}
