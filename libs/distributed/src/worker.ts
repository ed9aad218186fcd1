/**
 * A queue worker: pulls shards from Redis (BullMQ) and runs them through the tasks' own val and predict hooks, with
 * each model loaded once per process.
 */
import os from 'node:os';
import { deflateSync, inflateSync } from 'node:zlib';
import { type Job, Worker } from 'bullmq';
import { ConfigError, openPredict, openVal, type PredictContext, predictInto, type Predictor, type TaskModes, type ValContext, valJson } from '@cv/engine';
import type { z } from 'zod';
import { type EvaluateShardJob, type MergeJob, type PredictShardJob, QUEUE, type QueueJob, type ShardOutcome } from './jobs';
import { redisTarget } from './redis';
import { FolderStore } from './store';

export interface WorkerOptions {
  /** redis://host:port of the queue. */
  redis: string;
  /** The queue namespace (the producers' `--queue-name`). */
  queueName: string;
  /** Shards this process runs at once (they share its models; one is usually right on a CPU). */
  concurrency: number;
  /** The tasks it can run. */
  tasks: TaskModes[];
  /**
   * Seconds a shard's lock lasts without renewal: a killed worker's shard goes back to the queue after this (and the
   * stalled check that follows it). The lock is renewed while a shard runs: the loop yields between batches.
   */
  lockSeconds?: number;
  log?: (line: string) => void;
}

/** Lengthens the running job's lock (before opening a model, which holds the event loop). */
type Hold = () => Promise<unknown>;
/** A job's lock while its model is opened: loading and compiling took up to seconds on a busy 2-core machine. */
const OPENING_LOCK_MS = 120_000;

type AnyPredict = PredictContext<z.ZodObject, Predictor>;
type AnyVal = { ctx: ValContext<z.ZodObject, Predictor>; data: unknown };

/**
 * Starts a worker; resolves to a handle whose `close()` finishes the shards in hand and disconnects (what SIGTERM
 * does in `worker:start`).
 *
 * @example
 * const worker = await startWorker({ redis: 'redis://127.0.0.1:6379', queueName: 'cv', concurrency: 1, tasks: [detect] });
 */
export async function startWorker(options: WorkerOptions): Promise<{ close(): Promise<void>; name: string }> {
  const target = redisTarget(options.redis);
  const log = options.log ?? ((line: string) => console.log(line));
  const name = `${os.hostname()}:${process.pid}`;
  const tasks = new Map(options.tasks.map((t) => [t.name, t]));
  const lockMs = (options.lockSeconds ?? 30) * 1000;
  for (const t of options.tasks) t.setup?.();
  const opened = new Map<string, Promise<AnyPredict | AnyVal>>();
  const settled = new Set<string>();
  /**
   * The model and data of a job, opened once per process. Opening (loading, fusing, compiling the graph) holds the
   * event loop for seconds, so the lock cannot be renewed meanwhile: `hold` lengthens the job's lock first, else a
   * short --lock-seconds lets the stalled check hand a healthy shard to a second worker.
   */
  const open = async <T>(key: string, make: () => Promise<T>, hold: () => Promise<unknown>): Promise<T> => {
    if (!settled.has(key)) await hold();
    if (!opened.has(key)) {
      const p = make() as Promise<AnyPredict | AnyVal>;
      opened.set(key, p);
      p.then(
        () => settled.add(key),
        () => opened.delete(key),
      );
    }
    return opened.get(key)! as Promise<T>;
  };
  const taskOf = (name: string) => {
    const t = tasks.get(name);
    if (!t) throw new Error(`this worker runs ${[...tasks.keys()].join(', ')}, not '${name}'`);
    return t;
  };

  const predict = async (job: PredictShardJob, hold: Hold): Promise<ShardOutcome> => {
    const task = taskOf(job.task);
    const ctx = await open<AnyPredict>(`predict ${job.task} ${job.argv.join(' ')}`, async () => (await openPredict(task.predict, job.argv)).ctx, hold);
    const failures: { source: string; error: string }[] = [];
    const rows = await predictInto(task.predict, ctx, job.sources, ctx.cfg.out ?? null, (source, e) => failures.push({ source, error: e.message }));
    new FolderStore(ctx.cfg.out!).put(`${job.run}-${job.shard}`, JSON.stringify(rows));
    return { worker: name, shard: job.shard, inputs: job.sources.length, failures };
  };

  const openedVal = (job: EvaluateShardJob | MergeJob, hold: Hold) => {
    const task = taskOf(job.task);
    if (!task.val.shards) throw new ConfigError(`${task.val.command} has no sharded evaluation`);
    return open<AnyVal>(`val ${job.task} ${job.argv.join(' ')}`, () => openVal(task.val, job.argv), hold).then((v) => ({ task, ...v }));
  };

  const evaluate = async (job: EvaluateShardJob, hold: Hold): Promise<ShardOutcome> => {
    const { task, ctx, data } = await openedVal(job, hold);
    const part = await task.val.shards!.evaluate(data, job.items, ctx);
    return { worker: name, shard: job.shard, inputs: job.items.length, part: packPart(part) };
  };

  const merge = async (job: MergeJob, bull: Job, hold: Hold) => {
    const { task, ctx, data } = await openedVal(job, hold);
    const children = Object.values(await bull.getChildrenValues()) as ShardOutcome[];
    if (children.length !== job.shards) throw new Error(`merge of ${job.run}: ${children.length} of ${job.shards} shards returned`);
    children.sort((a, b) => a.shard - b.shard);
    const result = await task.val.shards!.merge(
      children.map((c) => unpackPart(c.part as string)),
      data,
      ctx,
    );
    const perWorker: Record<string, number> = {};
    for (const c of children) perWorker[c.worker] = (perWorker[c.worker] ?? 0) + c.inputs;
    return { lines: task.val.lines(result, data, ctx), json: valJson(task.val, ctx, data, result), perWorker };
  };

  const worker = new Worker(
    QUEUE,
    async (bull: Job, token?: string) => {
      const job = bull.data as QueueJob;
      const t0 = performance.now();
      const hold: Hold = () => (token ? bull.extendLock(token, Math.max(OPENING_LOCK_MS, lockMs)).catch(() => 0) : Promise.resolve(0));
      const out = job.kind === 'predict' ? await predict(job, hold) : job.kind === 'evaluate' ? await evaluate(job, hold) : await merge(job, bull, hold);
      log(`[worker ${name}] ${job.kind} ${bull.id} done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      return out;
    },
    {
      connection: target.options,
      prefix: options.queueName,
      concurrency: options.concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: 3,
    },
  );
  worker.on('failed', (bull, err) => log(`[worker ${name}] ${bull?.id ?? 'a job'} failed: ${err.message}`));
  worker.on('error', (err) => log(`[worker ${name}] ${err.message}`));
  await worker.waitUntilReady();
  log(`[worker ${name}] serving queue '${options.queueName}' on ${target.display}: ${[...tasks.keys()].join(', ')}; ${options.concurrency} at once`);
  return {
    name,
    async close() {
      await worker.close();
      for (const p of opened.values()) {
        const v = await p.catch(() => null);
        if (v) ('ctx' in v ? v.ctx.predictor : v.predictor).dispose();
      }
    },
  };
}

/**
 * A shard's part as it is stored in Redis (until its flow's parent has merged it, and in the parent's record of its
 * children): deflated JSON, base64 — a detect shard of 1,000 images is ~12 MB of JSON, a few MB packed.
 */
export const packPart = (part: unknown): string => deflateSync(JSON.stringify(part), { level: 1 }).toString('base64');
export const unpackPart = (text: string): unknown => JSON.parse(inflateSync(Buffer.from(text, 'base64')).toString('utf8'));
