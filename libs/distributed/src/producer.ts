/**
 * The producer side: `<task>:predict --queue …` and `<task>:val --queue …` split their inputs into shards with
 * deterministic job ids, wait for the workers, and end as the local run ends (the same predictions.json /
 * results.json, the same `--json`).
 */
import cliProgress from 'cli-progress';
import fs from 'node:fs';
import path from 'node:path';
import { FlowProducer, Job, Queue } from 'bullmq';
import {
  ConfigError,
  finishPredictFolder,
  openPredict,
  openVal,
  predictSources,
  predictSummaryLine,
  type RemoteModes,
  type TaskModes,
  writeFileAtomic,
} from '@cv/engine';
import {
  type EvaluateShardJob,
  KEEP_FINISHED,
  mergeJobId,
  modelStamp,
  type MergeJob,
  type PredictShardJob,
  QUEUE,
  runId,
  shardJobId,
  shardRanges,
  type ShardOutcome,
  toArgv,
} from './jobs';
import { redisTarget } from './redis';
import { FolderStore } from './store';

const QUEUE_KEYS = ['queue', 'queueName', 'shardSize'];

/** The runners `runMode` uses when a val or predict command line has `--queue`. */
export const queueModes: RemoteModes = { predict: queuedPredict, val: queuedVal };

/**
 * `<task>:predict --queue redis://… --out <dir>`: the inputs in shards of `--shard-size`, run by `worker:start`
 * processes, each writing its files into `--out` and its rows to the store; then predictions.json (every row, in
 * input order) and the task's set-level files (detect: results.json), as a local run writes them.
 */
export async function queuedPredict(task: TaskModes, argv: string[]): Promise<void> {
  const started = performance.now();
  const def = task.predict;
  const { ctx, positionals } = await openPredict(def, argv);
  const { cfg } = ctx;
  try {
    const target = redisTarget(cfg.queue!);
    if (!cfg.out) throw new ConfigError(`${def.command} --queue needs --out <dir>, a folder every worker can write (one machine, or a shared file system)`);
    if (cfg.json) throw new ConfigError(`${def.command} --queue writes predictions.json into --out; drop --json`);
    const out = path.resolve(cfg.out);
    const sources = predictSources(def, ctx, positionals).map((s) => (def.sources ? s : path.resolve(s)));
    const workerArgv = [...toArgv({ ...cfg }, [...QUEUE_KEYS, 'images', 'out', 'json']), `--out=${out}`];
    const run = runId(task.name, 'predict', workerArgv, [...modelStamp(path.resolve(cfg.model!)), ...sources]);
    const shards = shardRanges(sources.length, cfg.shardSize);
    fs.mkdirSync(out, { recursive: true });
    const jobs = shards.map((items, shard) => ({
      id: shardJobId(run, shard),
      data: { kind: 'predict', task: task.name, argv: workerArgv, run, shard, sources: items.map((i) => sources[i]) } satisfies PredictShardJob,
    }));
    console.error(
      `[${def.command}] ${sources.length} ${def.noun}s in ${shards.length} shards of ≤ ${cfg.shardSize} on queue '${cfg.queueName}' at ${target.display} (run ${run})`,
    );
    const queue = new Queue(QUEUE, { connection: target.options, prefix: cfg.queueName });
    try {
      const outcomes = await runJobs(queue, jobs, def.command, () => Promise.resolve());
      const store = new FolderStore(out);
      const rows = shards.flatMap((_, shard) => {
        const text = store.get(`${run}-${shard}`);
        if (text === null)
          throw new Error(`shard ${shard} of ${run} finished but its rows are not in ${out}/.shards; is --out on a file system every worker shares?`);
        return JSON.parse(text) as Record<string, unknown>[];
      });
      await finishPredictFolder(def, ctx, out, rows);
      const failures = outcomes.flatMap((o) => o.failures ?? []);
      if (failures.length) writeFileAtomic(path.join(out, 'failures.json'), JSON.stringify(failures, null, 1) + '\n');
      const seconds = (performance.now() - started) / 1000;
      console.log(predictSummaryLine(def, cfg, sources.length, rows, `${shards.length} shards; `, seconds));
      console.log(workerLine(outcomes));
      if (failures.length) {
        const shown = failures.slice(0, 3).map((f) => `${f.source}: ${f.error}`);
        console.error(
          `${failures.length} input(s) could not be read and were left out (${out}/failures.json): ${shown.join('; ')}${failures.length > 3 ? '; …' : ''}`,
        );
      }
    } finally {
      await queue.close();
    }
  } finally {
    ctx.predictor.dispose();
  }
}

/**
 * `<task>:val --queue redis://…`: a BullMQ flow — one child job per shard evaluates its items (detect: COCOeval on
 * its images, a coco-ts-api shard), the parent merges the parts and accumulates once on a worker — so the producer
 * never holds the per-image results, and the numbers equal a local run's bit for bit.
 */
export async function queuedVal(task: TaskModes, argv: string[]): Promise<void> {
  const def = task.val;
  if (!def.shards) throw new ConfigError(`${def.command} has no sharded evaluation; run it without --queue`);
  const { ctx, data } = await openVal(def, argv);
  const { cfg } = ctx;
  try {
    const target = redisTarget(cfg.queue!);
    if (cfg.out) throw new ConfigError(`${def.command} --queue writes --json only; run without --queue for the report folder (--out)`);
    const workerArgv = toArgv({ ...cfg }, [...QUEUE_KEYS, 'json', 'out']);
    const n = def.shards.count(data);
    const shards = shardRanges(n, cfg.shardSize);
    const run = runId(task.name, 'val', workerArgv, [...modelStamp(ctx.modelDir), n]);
    console.error(`[${def.command}] ${n} items in ${shards.length} shards of ≤ ${cfg.shardSize} on queue '${cfg.queueName}' at ${target.display} (run ${run})`);
    const flow = new FlowProducer({ connection: target.options, prefix: cfg.queueName });
    const queue = new Queue(QUEUE, { connection: target.options, prefix: cfg.queueName });
    const parent = { id: mergeJobId(run), data: { kind: 'merge', task: task.name, argv: workerArgv, run, shards: shards.length } satisfies MergeJob };
    const children = shards.map((items, shard) => ({
      id: shardJobId(run, shard),
      data: { kind: 'evaluate', task: task.name, argv: workerArgv, run, shard, items } satisfies EvaluateShardJob,
    }));
    const submit = async () => {
      await flow.add({
        name: 'merge',
        queueName: QUEUE,
        data: parent.data,
        opts: { jobId: parent.id, attempts: 3, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED },
        children: children.map((c) => ({
          name: 'evaluate',
          queueName: QUEUE,
          data: c.data,
          // A child's value lives on in its parent's record of its children: the child can go when it completes.
          opts: { jobId: c.id, attempts: 3, failParentOnFailure: true, removeOnComplete: true, removeOnFail: KEEP_FINISHED },
        })),
      });
    };
    try {
      await retrying(submit, `${def.command}: submitting the flow`);
      const [outcome] = await runJobs(queue, [parent], def.command, submit, children);
      const merged = outcome as unknown as { lines: string[]; json: object; perWorker: Record<string, number> };
      merged.lines.forEach((line) => console.log(line));
      if (cfg.json) {
        writeFileAtomic(cfg.json, JSON.stringify(merged.json, null, 2) + '\n');
        console.log(`wrote ${cfg.json}`);
      }
      console.error(
        `[${def.command}] ${Object.entries(merged.perWorker)
          .map(([w, k]) => `${w}: ${k}`)
          .join(', ')}`,
      );
    } finally {
      await Promise.all([flow.close(), queue.close()]);
    }
  } finally {
    ctx.predictor.dispose();
  }
}

/** Per-worker input counts, one line. */
function workerLine(outcomes: ShardOutcome[]): string {
  const per = new Map<string, number>();
  for (const o of outcomes) per.set(o.worker, (per.get(o.worker) ?? 0) + o.inputs);
  return `workers: ${[...per].map(([w, n]) => `${w} ${n}`).join(', ')}`;
}

/**
 * Adds the jobs (ids already on the queue are kept, so a restarted producer re-attaches) and waits until every one
 * has completed, with a progress bar over `watch` (default the jobs). A job the queue has lost — Redis restarted
 * without persistence — is submitted again (`resubmit` for a flow). A job failed for good fails the run with its
 * reason.
 */
async function runJobs(
  queue: Queue,
  jobs: { id: string; data: object }[],
  command: string,
  resubmit: () => Promise<void>,
  watch: { id: string }[] = jobs,
): Promise<ShardOutcome[]> {
  const isFlow = watch !== jobs;
  if (!isFlow) await retrying(() => addJobs(queue, jobs), `${command}: submitting`);
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: `${command} |{bar}| {value}/{total} shards | ETA {eta_formatted}`, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(watch.length, 0);
  let reported = 0;
  let lastWorkerCheck = performance.now();
  try {
    for (;;) {
      if (performance.now() - lastWorkerCheck > 10_000) {
        // A queue nobody serves waits forever: say so (once per 10 s) with the command that starts a worker.
        lastWorkerCheck = performance.now();
        const serving = await retrying(() => queue.getWorkersCount(), `${command}: counting workers`);
        if (!serving)
          console.error(
            `[${command}] no worker serves queue '${queue.opts.prefix}'; start one: npx nx run worker:start -- --redis <url> --queue-name ${queue.opts.prefix}`,
          );
      }
      const states = await retrying(() => Promise.all(jobs.map((j) => queue.getJobState(j.id))), `${command}: reading the queue`);
      const lost = jobs.filter((_, i) => states[i] === 'unknown');
      if (lost.length) {
        console.error(`[${command}] ${lost.length} job(s) not on the queue (Redis restarted?): submitting them again`);
        if (isFlow) await retrying(resubmit, `${command}: submitting again`);
        else await retrying(() => addJobs(queue, lost), `${command}: submitting again`);
      }
      const failed = jobs.find((_, i) => states[i] === 'failed');
      if (failed) {
        const job = await Job.fromId(queue, failed.id);
        throw new Error(`${command}: job ${failed.id} failed after its retries: ${job?.failedReason ?? 'no reason recorded'}`);
      }
      const watched = isFlow ? await retrying(() => Promise.all(watch.map((w) => queue.getJobState(w.id))), `${command}: reading the queue`) : states;
      // A flow's completed children are removed (their values are in the parent): gone counts as done while the parent is there.
      const done = watched.filter((s) => s === 'completed' || (isFlow && s === 'unknown' && states[0] !== 'unknown')).length;
      bar?.update(done);
      if (!bar && done > reported && (done === watch.length || done - reported >= Math.max(1, Math.round(watch.length / 10)))) {
        console.error(`[${command}] ${done}/${watch.length} shards done`);
        reported = done;
      }
      if (states.every((s) => s === 'completed')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    bar?.stop();
  }
  return Promise.all(jobs.map(async (j) => (await Job.fromId(queue, j.id))!.returnvalue as ShardOutcome));
}

/** Adds shard jobs under their fixed ids (BullMQ keeps a job whose id it has), kept a day after they finish. */
const addJobs = (queue: Queue, jobs: { id: string; data: object }[]) =>
  queue.addBulk(
    jobs.map((j) => ({
      name: (j.data as { kind: string }).kind,
      data: j.data,
      opts: { jobId: j.id, attempts: 3, removeOnComplete: KEEP_FINISHED, removeOnFail: KEEP_FINISHED },
    })),
  );

/**
 * Runs a Redis operation with a deadline, again until it succeeds: a command caught in a connection that dropped (a
 * restarted Redis) can stay pending for good, and every operation here is idempotent (fixed job ids, reads).
 */
async function retrying<T>(op: () => Promise<T>, what: string, seconds = 15): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        op(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${seconds} s`)), seconds * 1000))),
      ]);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      console.error(`[${what}] attempt ${attempt}: ${(e as Error).message}; trying again`);
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * attempt)));
    } finally {
      clearTimeout(timer);
    }
  }
}
