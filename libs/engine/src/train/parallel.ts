import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

/**
 * Data-parallel replicas of one training job (SPMD, as PyTorch DDP): every replica runs the same app
 * code in its own thread with its own tfjs engine, takes its shard of each batch, and averages
 * gradients with the others before the optimizer step, so all replicas keep identical weights. The
 * wasm backend runs one thread per engine in Node; replicas are how a job uses more cores.
 *
 * Replica 0 is the main thread: it alone reads validation data, prints and writes files.
 */
export interface Replicas {
  readonly rank: number;
  readonly worldSize: number;
  readonly isMain: boolean;
  /** Replaces `values` by the mean over replicas of each one's `values` (same length everywhere). */
  allReduceMean(values: Float32Array): Float32Array;
  /** Replica 0's value on every replica (JSON-serialisable). */
  broadcast<T>(value: T): T;
  /** Marks the job failed: replicas waiting on the others throw instead of waiting forever. */
  abort(): void;
  /** Main: waits for the other replicas to exit. */
  close(): Promise<void>;
}

/** Replica `rank`'s contiguous block of `n` batch rows: [start, start + size). */
export function shardRange(n: number, rank: number, worldSize: number): { start: number; size: number } {
  const start = Math.floor((rank * n) / worldSize);
  return { start, size: Math.floor(((rank + 1) * n) / worldSize) - start };
}

/** Mean of named gradients over replicas: one flat all-reduce, tensors rebuilt with their shapes. */
export function reduceOverReplicas(replicas: Replicas, grads: tf.NamedTensorMap): tf.NamedTensorMap {
  const names = Object.keys(grads);
  const sizes = names.map((n) => grads[n].size);
  const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0));
  let offset = 0;
  names.forEach((n, i) => {
    flat.set(grads[n].dataSync() as Float32Array, offset);
    offset += sizes[i];
  });
  replicas.allReduceMean(flat);
  offset = 0;
  const out: tf.NamedTensorMap = {};
  names.forEach((n, i) => {
    out[n] = tf.tensor(flat.subarray(offset, offset + sizes[i]), grads[n].shape, 'float32');
    offset += sizes[i];
  });
  return out;
}

interface ReplicaData {
  cvReplica: {
    rank: number;
    worldSize: number;
    control: SharedArrayBuffer;
    data: SharedArrayBuffer;
    bytes: SharedArrayBuffer;
    capacity: number;
    /** What the main thread decided before starting the replicas (e.g. the run folder), JSON. */
    job: Record<string, unknown>;
  };
}

const GEN = 0;
const ARRIVED = 1;
const ABORT = 2;
const BYTES = 3;
const ATTACHED = 4;
const BROADCAST_BYTES = 1 << 20;

class SharedReplicas implements Replicas {
  readonly isMain: boolean;
  private readonly ctrl: Int32Array;
  private readonly data: Float32Array;
  private readonly bytes: Uint8Array;

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    buffers: { control: SharedArrayBuffer; data: SharedArrayBuffer; bytes: SharedArrayBuffer },
    private readonly capacity: number,
    private readonly workers: Worker[] = [],
  ) {
    this.isMain = rank === 0;
    this.ctrl = new Int32Array(buffers.control);
    this.data = new Float32Array(buffers.data);
    this.bytes = new Uint8Array(buffers.bytes);
  }

  /** Barrier; the last replica to arrive runs `last` before releasing the others. */
  private arrive(last: () => void): void {
    const gen = Atomics.load(this.ctrl, GEN);
    if (Atomics.add(this.ctrl, ARRIVED, 1) === this.worldSize - 1) {
      last();
      Atomics.store(this.ctrl, ARRIVED, 0);
      Atomics.add(this.ctrl, GEN, 1);
      Atomics.notify(this.ctrl, GEN);
      return;
    }
    while (Atomics.load(this.ctrl, GEN) === gen) {
      if (Atomics.load(this.ctrl, ABORT)) throw new Error('another replica of this job failed; stopping');
      Atomics.wait(this.ctrl, GEN, gen, 200);
    }
  }

  allReduceMean(values: Float32Array): Float32Array {
    const { capacity: cap, worldSize: w } = this;
    if (values.length > cap) throw new Error(`allReduceMean: ${values.length} values exceed the replicas' buffer of ${cap}`);
    this.data.set(values, this.rank * cap);
    this.arrive(() => {
      const out = this.data.subarray(w * cap, w * cap + values.length);
      // Fixed order (replica 0, 1, ...) whoever arrives last: every run sums identically.
      for (let i = 0; i < values.length; i++) {
        let s = 0;
        for (let r = 0; r < w; r++) s += this.data[r * cap + i];
        out[i] = s / w;
      }
    });
    values.set(this.data.subarray(w * cap, w * cap + values.length));
    return values;
  }

  broadcast<T>(value: T): T {
    if (this.isMain) {
      const encoded = new TextEncoder().encode(JSON.stringify(value ?? null));
      if (encoded.length > BROADCAST_BYTES) throw new Error(`broadcast: ${encoded.length} bytes exceed ${BROADCAST_BYTES}`);
      this.bytes.set(encoded);
      Atomics.store(this.ctrl, BYTES, encoded.length);
    }
    this.arrive(() => {});
    const result = JSON.parse(new TextDecoder().decode(this.bytes.slice(0, Atomics.load(this.ctrl, BYTES)))) as T;
    this.arrive(() => {}); // nobody overwrites the bytes before everyone has read them
    return result;
  }

  abort(): void {
    Atomics.store(this.ctrl, ABORT, 1);
    Atomics.notify(this.ctrl, GEN);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => new Promise((resolve) => (w.threadId < 0 ? resolve(0) : w.once('exit', resolve)))));
  }

  terminate(): void {
    this.workers.forEach((w) => void w.terminate());
  }
}

const single: Replicas = {
  rank: 0,
  worldSize: 1,
  isMain: true,
  allReduceMean: (v) => v,
  broadcast: (v) => v,
  abort: () => {},
  close: async () => {},
};

let active: SharedReplicas | null = null;

/** The replica this thread is (replica workers are started by `startReplicas` on the main thread). */
export function replicaRank(): number {
  return !isMainThread && (workerData as ReplicaData | null)?.cvReplica ? (workerData as ReplicaData).cvReplica.rank : 0;
}

/** In a replica worker: what the main thread passed to `startReplicas` as `job` (null on the main thread). */
export function replicaJob(): Record<string, unknown> | null {
  return !isMainThread && (workerData as ReplicaData | null)?.cvReplica ? (workerData as ReplicaData).cvReplica.job : null;
}

/** Number of replicas for a `workers` setting: 0 = one per core (at most 4), else as given. */
export function resolveWorkers(workers: number): number {
  return workers > 0 ? workers : Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
}

/**
 * Joins (in a replica worker) or starts (on the main thread) the job's replicas. The main thread starts
 * `worldSize − 1` workers that run the same entry script with the same arguments; each of them reaches
 * this call and attaches to the shared buffers. `capacity` = the most floats one all-reduce carries
 * (e.g. the largest model's trainable parameter count + a few logs).
 *
 * @example
 * const replicas = await startReplicas(2, generator.countParams() + 64);
 * if (!replicas.isMain) { ... quiet, no files ... }
 *
 * The main thread returns once every replica has attached; a replica that fails before (an import error,
 * bad data, out of memory) makes it reject with that replica's error instead of waiting forever.
 * `options.job` reaches the workers as `replicaJob()`; `options.entry` replaces the entry script.
 */
export async function startReplicas(worldSize: number, capacity: number, options: { job?: Record<string, unknown>; entry?: string } = {}): Promise<Replicas> {
  const mine = !isMainThread ? (workerData as ReplicaData | null)?.cvReplica : undefined;
  if (mine) {
    if (mine.capacity < capacity) throw new Error(`replica ${mine.rank}: capacity ${mine.capacity} < ${capacity}`);
    active = new SharedReplicas(mine.rank, mine.worldSize, mine, mine.capacity);
    const ctrl = new Int32Array(mine.control);
    Atomics.add(ctrl, ATTACHED, 1);
    const replica = active;
    process.on('uncaughtException', (e) => {
      replica.abort();
      console.error(`replica ${mine.rank}: ${e.message}`);
    });
    return active;
  }
  if (worldSize <= 1) return single;
  const control = new SharedArrayBuffer(16 * 4);
  const data = new SharedArrayBuffer((worldSize + 1) * capacity * 4);
  const bytes = new SharedArrayBuffer(BROADCAST_BYTES);
  const entry = pathToFileURL(options.entry ?? process.argv[1]).href;
  // A TypeScript entry (run by tsx) needs tsx's loader registered in the worker too.
  const load = entry.endsWith('.ts')
    ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`
    : `import(${JSON.stringify(entry)});`;
  const workers: Worker[] = [];
  for (let rank = 1; rank < worldSize; rank++) {
    const cvReplica = { rank, worldSize, control, data, bytes, capacity, job: options.job ?? {} };
    const worker = new Worker(load, { eval: true, argv: process.argv.slice(2), workerData: { cvReplica } satisfies ReplicaData, stdout: true });
    worker.stdout.resume(); // replicas' stdout is discarded; errors still reach stderr
    workers.push(worker);
  }
  const started = new SharedReplicas(0, worldSize, { control, data, bytes }, capacity, workers);
  active = started;
  let failure: Error | null = null;
  workers.forEach((w, i) => {
    w.on('error', (e) => {
      failure ??= new Error(`replica ${i + 1} failed: ${e.message}`);
      started.abort();
    });
    w.on('exit', (code) => {
      failure ??= new Error(`replica ${i + 1} exited with code ${code} before joining the job`);
      if (code !== 0) started.abort();
    });
  });
  // Wait (without blocking the event loop, so the workers' error and exit events arrive) until all attach.
  const ctrl = new Int32Array(control);
  while (Atomics.load(ctrl, ATTACHED) < worldSize - 1) {
    if (failure) {
      started.terminate();
      active = null;
      throw failure;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return started;
}

/** Aborts and stops the running job's replicas (called when the job fails). */
export function abortReplicas(): void {
  if (!active) return;
  active.abort();
  active.terminate();
}
