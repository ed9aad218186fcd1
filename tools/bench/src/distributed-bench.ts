/**
 * `npx nx run bench:distributed -- [--images 10000] [--shard-size 1000] [--workers 1,2,4] [--json]`: detect:predict
 * over generated shapes images, first in one process, then through a Redis queue (a redis-server started here on a
 * free loopback port) with 1, 2 and 4 `worker:start` processes on this machine (each with cores / workers oneDNN
 * threads). Every run is timed from its command's start to its exit, and checked to write the local run's
 * results.json.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeShapes } from '@cv/data';
import { startLocalRedis } from '@cv/distributed';
import { availableCores, parseArgs, runCli } from '@cv/engine';
import { z } from 'zod';

const schema = z.object({
  images: z.number().int().positive().default(10000).describe('generated shapes images (seed 31)'),
  shardSize: z.number().int().positive().default(1000).describe('images per shard'),
  workers: z.string().default('1,2,4').describe('worker process counts to run, comma-separated'),
  json: z.boolean().default(false).describe('print one JSON object per row'),
});
const root = process.cwd();
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const model = 'models/detect/shapes';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to its exit; its wall-clock seconds. */
function timed(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(tsx, args, { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.status !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
  return (performance.now() - t0) / 1000;
}

function startWorker(url: string, queueName: string, threads: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const args = ['apps/worker/src/start.ts', '--redis', url, '--queue-name', queueName, '--threads', String(threads)];
    const w = spawn(tsx, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    w.stdout!.on('data', (d) => {
      log += String(d);
      if (log.includes('serving queue')) resolve(w);
    });
    w.once('exit', (code) => reject(new Error(`worker exited (${code}): ${log}`)));
  });
}

runCli(
  async (argv) => {
    const { config: cfg } = parseArgs(schema, argv);
    const data = path.join(root, 'tmp', `bench-distributed-${cfg.images}`);
    if (!fs.existsSync(path.join(data, 'annotations.json'))) {
      console.error(`writing ${cfg.images} shapes images to ${data} …`);
      await writeShapes(data, { n: cfg.images, seed: 31 });
    }
    const images = path.join(data, 'images');
    const out = (name: string) => path.join(os.tmpdir(), `bench-distributed-${name}`);
    const rows: Record<string, unknown>[] = [];
    const local = timed(['apps/detect/src/predict.ts', '--model', model, '--images', images, '--out', out('local')]);
    const reference = fs.readFileSync(path.join(out('local'), 'results.json'), 'utf8');
    rows.push({ run: 'one process (no queue)', workers: 0, seconds: local, imagesPerSecond: cfg.images / local });
    const redis = await startLocalRedis();
    const url = redis.url;
    try {
      for (const n of cfg.workers.split(',').map(Number)) {
        const threads = Math.max(1, Math.floor(availableCores() / n));
        const queueName = `bench-${n}-${Date.now()}`;
        const workers = await Promise.all(Array.from({ length: n }, () => startWorker(url, queueName, threads)));
        try {
          const name = `q${n}`;
          fs.rmSync(out(name), { recursive: true, force: true });
          const args = [
            'apps/detect/src/predict.ts',
            '--model',
            model,
            '--images',
            images,
            '--out',
            out(name),
            '--queue',
            url,
            '--shard-size',
            String(cfg.shardSize),
          ];
          const seconds = timed([...args, '--queue-name', queueName]);
          const same = fs.readFileSync(path.join(out(name), 'results.json'), 'utf8') === reference;
          rows.push({
            run: `queue, ${n} worker(s) × ${threads} thread(s)`,
            workers: n,
            seconds,
            imagesPerSecond: cfg.images / seconds,
            overVsLocal: seconds / local - 1,
            sameResults: same,
          });
        } finally {
          for (const w of workers) w.kill('SIGTERM');
          await sleep(300);
        }
      }
    } finally {
      await redis.stop();
    }
    if (cfg.json) rows.forEach((r) => console.log(JSON.stringify(r)));
    else {
      console.log(`| run | s | images/s | vs one process | results.json equal |\n| --- | ---: | ---: | ---: | --- |`);
      for (const r of rows)
        console.log(
          `| ${r.run} | ${(r.seconds as number).toFixed(1)} | ${(r.imagesPerSecond as number).toFixed(1)} | ${r.overVsLocal === undefined ? '—' : `${(100 * (r.overVsLocal as number)).toFixed(1)} %`} | ${r.sameResults ?? '—'} |`,
        );
      console.log(`\n${cfg.images} images, shards of ${cfg.shardSize}, ${availableCores()} cores, ${new Date().toISOString()}`);
    }
  },
  { schema, usage: 'usage: nx run bench:distributed -- [--images 10000] [--shard-size 1000] [--workers 1,2,4]' },
);
