/**
 * Evaluation over worker threads (Node): blocks of categories (evaluated and accumulated per thread) or of
 * images (shards, merged) — the numbers of one evaluate() + accumulate() over everything, bit for bit.
 */
import { Worker } from 'node:worker_threads';
import { COCO, CocoError } from './coco';
import { COCOeval, type EvalResult } from './eval';
import { loadCocoFile, loadResultsFile } from './files';
import { type IouType, Params } from './params';
import { type EvalShard, evaluateShard, mergeShards, type PackedShard, unpackShard } from './shards';

/** What a worker needs to evaluate its block: the files (each worker reads them) and the parameters. */
export interface WorkerJob {
  gt: string;
  dt: string;
  iouType: IouType;
  params: Partial<Pick<Params, 'catIds' | 'maxDets' | 'useCats' | 'iouThrs' | 'recThrs' | 'areaRng' | 'areaRngLbl' | 'kpt_oks_sigmas'>>;
  imgIds: number[];
  /** 'categories': evaluate and accumulate the block `catIds` over all images (see `startEvaluationWorkers`). */
  split?: 'images' | 'categories';
  catIds?: number[];
}

/** Evaluates and accumulates the categories `job.catIds` over `job.imgIds` (a category block). */
export function accumulateCategoryBlock(job: WorkerJob, loaded: { gt: COCO; dt: COCO }): EvalResult {
  const E = new COCOeval(loaded.gt, loaded.dt, job.iouType);
  Object.assign(E.params, job.params);
  E.params.imgIds = [...job.imgIds];
  E.params.catIds = [...job.catIds!];
  E.evaluate();
  return E.accumulate();
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
 * Starts `workers − 1` threads that each load `gt` / `dt` and wait; `evaluate()` then works in parallel (this
 * thread takes the first block, with `loaded` or its own load). `split: 'categories'` (the default with
 * useCats) gives each thread a block of categories to evaluate *and* accumulate over all images — categories are
 * independent in both, so only their precision / recall / scores slices come back and the numbers are
 * bit-equal to one thread; `split: 'images'` evaluates image blocks as shards and merges them (`mergeShards`).
 * Loading is kept out of `evaluate()`, as pycocotools' timings keep COCO() and loadRes out of evaluate().
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
  const useCats = job.params.useCats ?? 1;
  const split = useCats ? (job.split ?? 'categories') : 'images';
  const cats = [...new Set(job.params.catIds?.length ? job.params.catIds : gt.getCatIds())].sort((a, b) => a - b);
  const jobs: WorkerJob[] =
    split === 'categories'
      ? blocks(cats, Math.min(workers, Math.max(1, cats.length))).map((catIds) => ({ ...job, imgIds: all, split, catIds }))
      : blocks(all, Math.min(workers, Math.max(1, all.length))).map((imgIds) => ({ ...job, imgIds, split }));
  const script = new URL('./eval-worker.ts', import.meta.url).href;
  const load = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(script)}); });`;
  const threads = jobs.slice(1).map((workerData) => new Worker(load, { eval: true, workerData }));
  type Reply = { ready?: boolean; packed?: PackedShard; accumulated?: EvalResult; error?: string };
  const next = (w: Worker) =>
    new Promise<Reply>((resolve, reject) => {
      const onExit = (code: number) => reject(new CocoError(`evaluation worker exited with code ${code}`));
      w.once('message', (m: Reply) => {
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
      if (split === 'images') {
        const mine = evaluateBlock(jobs[0], { gt, dt });
        return mergeShards([mine, ...(await Promise.all(remote)).map((m) => unpackShard(m.packed!))]);
      }
      const mine = accumulateCategoryBlock(jobs[0], { gt, dt });
      const parts = [mine, ...(await Promise.all(remote)).map((m) => m.accumulated!)];
      const E = new COCOeval(gt, dt, job.iouType);
      Object.assign(E.params, job.params);
      E.params.imgIds = all;
      E.params.catIds = cats;
      E.params.maxDets = [...E.params.maxDets].sort((a, b) => a - b);
      E.loadAccumulated(joinCategoryBlocks(parts, E.params));
      return E;
    },
    async close() {
      await Promise.all(threads.map((w) => w.terminate()));
    },
  };
}

/** Category blocks' accumulate() results (in category order) side by side along the K axis. */
export function joinCategoryBlocks(parts: EvalResult[], params: Params): EvalResult {
  const [T, R, , A, M] = parts[0].counts;
  const K = parts.reduce((n, p) => n + p.counts[2], 0);
  const precision = new Float64Array(T * R * K * A * M);
  const scores = new Float64Array(T * R * K * A * M);
  const recall = new Float64Array(T * K * A * M);
  let off = 0;
  for (const part of parts) {
    const Kb = part.counts[2];
    const am = A * M;
    for (let t = 0; t < T; t++) {
      for (let r = 0; r < R; r++) {
        const src = (t * R + r) * Kb * am;
        const dst = ((t * R + r) * K + off) * am;
        precision.set(part.precision.subarray(src, src + Kb * am), dst);
        scores.set(part.scores.subarray(src, src + Kb * am), dst);
      }
      recall.set(part.recall.subarray(t * Kb * am, (t + 1) * Kb * am), (t * K + off) * am);
    }
    off += Kb;
  }
  return { params, counts: [T, R, K, A, M], precision, recall, scores };
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
