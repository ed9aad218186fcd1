/** The jobs on the queue: shards of predict or evaluate work, the merge of an evaluation, and their ids. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** The BullMQ queue every job goes to; `--queue-name` is its key prefix, so users of one Redis do not collide. */
export const QUEUE = 'shards';

export interface PredictShardJob {
  kind: 'predict';
  task: string;
  /** The predict command line the worker runs (options only; `--out` is the shared output folder). */
  argv: string[];
  run: string;
  shard: number;
  /** The shard's inputs (absolute paths, or the task's own names). */
  sources: string[];
}

export interface EvaluateShardJob {
  kind: 'evaluate';
  task: string;
  /** The val command line the worker runs to read the data (options only, without --json / --out). */
  argv: string[];
  run: string;
  shard: number;
  /** Indices of the shard's items in the task's data (images of a COCO file, in its order). */
  items: number[];
}

export interface MergeJob {
  kind: 'merge';
  task: string;
  argv: string[];
  run: string;
  shards: number;
}

export type QueueJob = PredictShardJob | EvaluateShardJob | MergeJob;

/** What a shard job returns: who ran it and how much; an evaluate shard adds its part of the evaluation. */
export interface ShardOutcome {
  worker: string;
  shard: number;
  inputs: number;
  part?: unknown;
  /** Inputs of a predict shard that could not be read (left out; the rest of the shard goes on). */
  failures?: { source: string; error: string }[];
}

/**
 * A run's id from what it computes: the task, the mode, the command line the workers get and the inputs. The same
 * work submitted again gets the same job ids, so BullMQ keeps the jobs it has (re-submission is idempotent, a
 * restarted producer re-attaches).
 */
export function runId(task: string, mode: string, argv: string[], inputs: readonly (string | number)[]): string {
  const h = createHash('sha1');
  h.update(JSON.stringify({ task, mode, argv }));
  for (const s of inputs) h.update(`\n${s}`);
  return `${task}-${mode}-${h.digest('hex').slice(0, 16)}`;
}

/**
 * What identifies a model folder's contents for a run id: its files' names, sizes and modification times (a model
 * retrained into the same folder is other work).
 */
export function modelStamp(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [dir];
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => {
      const s = fs.statSync(path.join(dir, f));
      return `${f}:${s.size}:${s.mtimeMs}`;
    });
}

/** Jobs stay on the queue a day after they finish (a producer restarted within it re-attaches), then go. */
export const KEEP_FINISHED = { age: 24 * 3600 };

export const shardJobId = (run: string, shard: number) => `${run}-s${String(shard).padStart(5, '0')}`;
export const mergeJobId = (run: string) => `${run}-merge`;

/** Consecutive slices of `n` items of at most `size` each. */
export function shardRanges(n: number, size: number): number[][] {
  const out: number[][] = [];
  for (let start = 0; start < n; start += size) out.push(Array.from({ length: Math.min(size, n - start) }, (_, i) => start + i));
  return out;
}

/**
 * A parsed config as a command line again (`--key=value`, booleans as `--key` / `--no-key`), without `omit`: what
 * the workers run.
 */
export function toArgv(cfg: Record<string, unknown>, omit: readonly string[]): string[] {
  const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return Object.entries(cfg)
    .filter(([k, v]) => !omit.includes(k) && v !== undefined)
    .flatMap(([k, v]) => (typeof v === 'boolean' ? [v ? `--${kebab(k)}` : `--no-${kebab(k)}`] : [`--${kebab(k)}=${String(v)}`]));
}
