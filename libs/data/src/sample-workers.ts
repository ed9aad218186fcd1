import { Worker } from 'node:worker_threads';
import type { Sample, SampleBatch, SampleSet, TransformSpec } from './sample-types';

/**
 * A sample set copied once into shared memory, so worker threads read its images, boxes and masks without
 * a copy per batch. Offsets are element offsets into the shared arrays; −1 marks a missing mask or label.
 */
export interface PackedSamples {
  length: number;
  classNames: string[];
  images: Uint8Array;
  imageOffsets: Float64Array;
  shapes: Int32Array;
  boxes: Float32Array;
  boxClasses: Int32Array;
  boxOffsets: Int32Array;
  hasBoxes: Uint8Array;
  masks: Uint8Array;
  maskOffsets: Float64Array;
  labels: Int32Array;
}

const shared = <T extends Uint8Array | Int32Array | Float32Array | Float64Array>(
  Ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  n: number,
): T => new Ctor(new SharedArrayBuffer(Math.max(1, n) * Ctor.BYTES_PER_ELEMENT));

const packedSets = new WeakMap<SampleSet, PackedSamples>();

/** The set in shared memory (once per set: the loaders of one set share it). */
export function packSamples(set: SampleSet): PackedSamples {
  const cached = packedSets.get(set);
  if (cached) return cached;
  const n = set.length;
  let pixels = 0;
  let boxCount = 0;
  let maskPixels = 0;
  for (let i = 0; i < n; i++) {
    const s = set.get(i);
    pixels += s.image.length;
    boxCount += (s.boxes?.length ?? 0) / 4;
    maskPixels += s.mask?.length ?? 0;
  }
  const p: PackedSamples = {
    length: n,
    classNames: set.classNames,
    images: shared(Uint8Array, pixels),
    imageOffsets: shared(Float64Array, n + 1),
    shapes: shared(Int32Array, n * 3),
    boxes: shared(Float32Array, boxCount * 4),
    boxClasses: shared(Int32Array, boxCount),
    boxOffsets: shared(Int32Array, n + 1),
    hasBoxes: shared(Uint8Array, n),
    masks: shared(Uint8Array, maskPixels),
    maskOffsets: shared(Float64Array, n),
    labels: shared(Int32Array, n),
  };
  let px = 0;
  let bx = 0;
  let mx = 0;
  for (let i = 0; i < n; i++) {
    const s = set.get(i);
    p.imageOffsets[i] = px;
    p.images.set(s.image, px);
    px += s.image.length;
    p.shapes.set(s.shape, i * 3);
    p.boxOffsets[i] = bx;
    p.hasBoxes[i] = s.boxes ? 1 : 0;
    if (s.boxes) {
      p.boxes.set(s.boxes, bx * 4);
      if (s.boxClasses) p.boxClasses.set(s.boxClasses, bx);
      bx += s.boxes.length / 4;
    }
    p.maskOffsets[i] = s.mask ? mx : -1;
    if (s.mask) {
      p.masks.set(s.mask, mx);
      mx += s.mask.length;
    }
    p.labels[i] = s.label ?? -1;
  }
  p.imageOffsets[n] = px;
  p.boxOffsets[n] = bx;
  packedSets.set(set, p);
  return p;
}

/** A packed set read back as a SampleSet (views into the shared memory; transforms never write their input). */
export function unpackSamples(p: PackedSamples): SampleSet {
  return {
    length: p.length,
    classNames: p.classNames,
    get(i: number): Sample {
      const shape = Array.from(p.shapes.subarray(i * 3, i * 3 + 3)) as [number, number, number];
      const s: Sample = { image: p.images.subarray(p.imageOffsets[i], p.imageOffsets[i + 1]), shape };
      if (p.hasBoxes[i]) {
        s.boxes = p.boxes.subarray(p.boxOffsets[i] * 4, p.boxOffsets[i + 1] * 4);
        s.boxClasses = p.boxClasses.subarray(p.boxOffsets[i], p.boxOffsets[i + 1]);
      }
      if (p.maskOffsets[i] >= 0) s.mask = p.masks.subarray(p.maskOffsets[i], p.maskOffsets[i] + shape[0] * shape[1]);
      if (p.labels[i] >= 0) s.label = p.labels[i];
      return s;
    },
  };
}

/** What a sample worker is started with. */
export interface SampleWorkerData {
  cvSamples: { packed: PackedSamples; transform: TransformSpec | null };
}

/** One batch to make: the loader's seed, the batch's index (its augmentation seed) and its samples. */
export interface SampleJob {
  id: number;
  seed: number;
  batch: number;
  indices: Int32Array;
}

type Reply = { id: number; batch?: SampleBatch; error?: string };

/**
 * Worker threads that read, augment and collate a SampleLoader's batches while the training step runs
 * on the main thread (Ultralytics' / PyTorch's DataLoader workers). A batch depends only on (seed, batch
 * index, indices), so any number of workers gives the batches of one thread, byte for byte. Idle workers do
 * not keep the process alive.
 */
export class SampleWorkers {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (b: SampleBatch) => void; reject: (e: Error) => void; worker: Worker }>();
  private readonly busy: number[];
  private nextId = 0;
  private failure: Error | null = null;

  constructor(set: SampleSet, transform: TransformSpec | null, count: number) {
    const packed = packSamples(set);
    const script = new URL('./sample-worker' + (import.meta.url.endsWith('.ts') ? '.ts' : '.js'), import.meta.url).href;
    const load = script.endsWith('.ts')
      ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`
      : `import(${JSON.stringify(script)});`;
    this.busy = new Array(count).fill(0);
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(load, { eval: true, workerData: { cvSamples: { packed, transform } } satisfies SampleWorkerData });
      w.unref();
      w.on('message', (m: Reply) => this.settle(w, m));
      w.on('error', (e) => this.fail(new Error(`data worker failed: ${e.message}`)));
      w.on('exit', (code) => code !== 0 && this.fail(new Error(`data worker exited with code ${code}`)));
      return w;
    });
  }

  /** The batch `batch` of the epoch with `seed`, made of `indices`, by the least busy worker. */
  run(seed: number, batch: number, indices: Int32Array): Promise<SampleBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const k = this.busy.indexOf(Math.min(...this.busy));
    const worker = this.workers[k];
    const id = this.nextId++;
    if (this.busy[k]++ === 0) worker.ref(); // a pending batch keeps the process alive
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker });
      worker.postMessage({ id, seed, batch, indices } satisfies SampleJob);
    });
  }

  private settle(w: Worker, m: Reply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    const k = this.workers.indexOf(w);
    if (--this.busy[k] === 0) w.unref();
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.batch!);
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    this.busy.fill(0);
    this.workers.forEach((w) => w.unref());
  }

  /** Stops the threads. */
  async close(): Promise<void> {
    this.failure ??= new Error('data workers closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
