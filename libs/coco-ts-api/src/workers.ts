/**
 * Evaluation over worker threads (Node): the images split into contiguous blocks, each block evaluated as a
 * shard (this thread takes the first), the shards merged — the numbers of one evaluate() over all images.
 */
import { Worker } from 'node:worker_threads';
import { COCO, CocoError } from './coco';
import { COCOeval } from './eval';
import { loadCocoFile, loadResultsFile } from './files';
import { type IouType, Params } from './params';
import { type EvalShard, evaluateShard, mergeShards, type PackedShard, unpackShard } from './shards';

/** What a worker needs to evaluate its block: the files (each worker reads them) and the parameters. */
export interface WorkerJob {
  gt: string;
  dt: string;
  iouType: IouType;
  params: Partial<Pick<Params, 'catIds' | 'maxDets' | 'useCats' | 'iouThrs' | 'recThrs' | 'areaRng' | 'areaRngLbl'>>;
  imgIds: number[];
}

/** Evaluates one block in this thread (also what each worker runs). */
export function evaluateBlock(job: WorkerJob, loaded?: { gt: COCO; dt: COCO }): EvalShard {
  const gt = loaded?.gt ?? loadCocoFile(job.gt);
  const dt = loaded?.dt ?? loadResultsFile(gt, job.dt);
  const E = new COCOeval(gt, dt, job.iouType);
  Object.assign(E.params, job.params);
  return evaluateShard(E, job.imgIds);
}

/** Contiguous blocks of about equal size. */
export function blocks<T>(items: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n)));
}

/** Worker threads that have loaded the files and wait to evaluate their blocks. */
export interface EvaluationWorkers {
  /** Evaluates every block (this thread's too) and merges the shards. */
  evaluate(): Promise<COCOeval>;
  close(): Promise<void>;
}

/**
 * Starts `workers − 1` threads that each load `gt` / `dt` and wait; `evaluate()` then evaluates the image
 * blocks in parallel (this thread takes the first, with `loaded` or its own load) and merges them. Loading is
 * kept out of `evaluate()`, as pycocotools' timings keep COCO() and loadRes out of evaluate().
 */
export async function startEvaluationWorkers(
  job: Omit<WorkerJob, 'imgIds'> & { imgIds?: number[] },
  workers: number,
  loaded?: { gt: COCO; dt: COCO },
): Promise<EvaluationWorkers> {
  if (!(Number.isInteger(workers) && workers >= 1)) throw new CocoError(`workers must be a whole number ≥ 1, got ${workers}`);
  const gt = loaded?.gt ?? loadCocoFile(job.gt);
  const dt = loaded?.dt ?? loadResultsFile(gt, job.dt);
  const all = [...new Set(job.imgIds ?? gt.getImgIds())].sort((a, b) => a - b);
  const parts = blocks(all, Math.min(workers, Math.max(1, all.length)));
  const script = new URL('./eval-worker.ts', import.meta.url).href;
  const load = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`;
  const threads = parts.slice(1).map((ids) => new Worker(load, { eval: true, workerData: { ...job, imgIds: ids } satisfies WorkerJob }));
  const next = (w: Worker) =>
    new Promise<{ ready?: boolean; packed?: PackedShard }>((resolve, reject) => {
      const onExit = (code: number) => reject(new CocoError(`evaluation worker exited with code ${code}`));
      w.once('message', (m: { ready?: boolean; packed?: PackedShard; error?: string }) => {
        w.off('exit', onExit);
        if (m.error) reject(new CocoError(m.error));
        else resolve(m);
      });
      w.once('error', reject);
      w.once('exit', onExit);
    });
  try {
    await Promise.all(threads.map(next));
  } catch (e) {
    await Promise.all(threads.map((w) => w.terminate()));
    throw e;
  }
  return {
    async evaluate() {
      const remote = threads.map((w) => {
        const r = next(w);
        w.postMessage('evaluate');
        return r;
      });
      const mine = evaluateBlock({ ...job, imgIds: parts[0] }, { gt, dt });
      return mergeShards([mine, ...(await Promise.all(remote)).map((m) => unpackShard(m.packed!))]);
    },
    async close() {
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}

/**
 * Evaluates `gt` / `dt` files with `workers` threads in all (this one included) and returns the merged
 * COCOeval, ready for accumulate() and summarize(). `loaded` reuses this thread's already-loaded index.
 *
 * @example
 * const E = await evaluateInWorkers({ gt: 'gt.json', dt: 'dt.json', iouType: 'bbox', params: {} }, 2);
 * E.accumulate(); E.summarize();
 */
export async function evaluateInWorkers(
  job: Omit<WorkerJob, 'imgIds'> & { imgIds?: number[] },
  workers: number,
  loaded?: { gt: COCO; dt: COCO },
): Promise<COCOeval> {
  const pool = await startEvaluationWorkers(job, workers, loaded);
  try {
    return await pool.evaluate();
  } finally {
    await pool.close();
  }
}
