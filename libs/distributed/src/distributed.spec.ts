/**
 * Prediction and COCO evaluation over a real Redis (a `redis-server` started here on a free loopback port) with
 * three `worker:start` processes: the answers equal a single-process run exactly — also when a worker is killed
 * with SIGKILL mid-run, and when Redis restarts (losing every job) mid-run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeShapes } from '@cv/data';
import { available, scriptRunner, REPO_ROOT as root, scriptEnv as env, TSX as tsx } from '@cv/engine/testing';
import { hasRedisServer, hidePassword, type LocalRedis, redisTarget, runId, shardRanges, startLocalRedis, toArgv } from './index';

const hasRedis = available('redis-server', hasRedisServer(), 'apt-get install -y redis-server');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'distributed-'));
const cli = scriptRunner('.', { timeout: 240_000 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A child's exit code, or null after `ms` (the child is then killed, so a hang fails the test with its output). */
const exitOf = (child: ChildProcess, ms: number) =>
  new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), resolve(null)), ms);
    child.once('exit', (code) => (clearTimeout(timer), resolve(code)));
  });

describe('units', () => {
  it('redis URLs: options, TLS, database, the password never printed, bad URLs as one line', () => {
    const t = redisTarget('rediss://user:s3cret@10.1.2.3:6380/2');
    expect(t.options).toMatchObject({ host: '10.1.2.3', port: 6380, db: 2, username: 'user', password: 's3cret', tls: {} });
    expect(t.display).toBe('rediss://user:***@10.1.2.3:6380/2');
    expect(redisTarget('redis://localhost').options).toMatchObject({ host: 'localhost', port: 6379, db: 0 });
    expect(() => redisTarget('http://x:1')).toThrow(/not a redis:\/\/ or rediss:\/\/ URL/);
    expect(() => redisTarget('redis://:pw@')).toThrow(/is not a URL|names no host/);
    expect(hidePassword('redis://:pw@host:1')).toBe('redis://:***@host:1');
  });

  it('job ids depend on the work only; shards cover every item once; configs round-trip to argv', () => {
    expect(runId('detect', 'val', ['--a=1'], ['x', 'y'])).toBe(runId('detect', 'val', ['--a=1'], ['x', 'y']));
    expect(runId('detect', 'val', ['--a=1'], ['x', 'y'])).not.toBe(runId('detect', 'val', ['--a=2'], ['x', 'y']));
    expect(shardRanges(5, 2)).toEqual([[0, 1], [2, 3], [4]]);
    expect(toArgv({ conf: 0.5, maskAp: false, json: true, data: 'a b.json', queue: 'redis://x' }, ['queue'])).toEqual([
      '--conf=0.5',
      '--no-mask-ap',
      '--json',
      '--data=a b.json',
    ]);
  });
});

describe.skipIf(!hasRedis)('detect over a Redis queue with three worker processes', () => {
  let redis: LocalRedis;
  const workers: ChildProcess[] = [];
  const data = path.join(work, 'shapes');
  const ann = path.join(data, 'annotations.json');
  const model = 'models/detect/shapes';
  const url = () => redis.url;
  let workerOutput = ''; // every worker's stdout: one "done" line per shard run

  const startWorker = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const w = spawn(tsx, [path.join(root, 'apps/worker/src/start.ts'), '--redis', url(), '--threads', '1', '--lock-seconds', '2'], {
        cwd: root,
        env: env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      w.stdout!.on('data', (d) => {
        log += String(d);
        workerOutput += String(d);
        if (log.includes('serving queue')) resolve(w);
      });
      w.stderr!.on('data', (d) => (log += String(d)));
      w.once('exit', (code) => reject(new Error(`worker exited (${code}) before serving: ${log}`)));
      workers.push(w);
    });
  // 160 images in 20 shards of 8. Each queued run gets its own `--threads` (ONNX Runtime's, unused by tfjs: the answers
  // do not change, the job family does), so it cannot re-attach to an earlier test's finished jobs and the local
  // reference answers are computed once.
  let family = 0;
  const queueArgs = () => ['--queue', url(), '--shard-size', '8', '--threads', String(++family)];
  const images = () => path.join(data, 'images');
  const detectVal = (json: string) => ['apps/detect/src/val.ts', '--model', model, '--data', ann, '--json', json];
  const detectPredict = (out: string) => ['apps/detect/src/predict.ts', '--model', model, '--images', images(), '--data', ann, '--out', out];
  const segmentVal = (json: string) => [
    'apps/segment/src/val.ts',
    '--model',
    'models/segment/shapes',
    '--images',
    images(),
    '--masks',
    path.join(data, 'masks'),
    '--json',
    json,
  ];
  const local = { val: path.join(work, 'val-local.json'), predict: path.join(work, 'pred-local'), segment: path.join(work, 'seg-local.json') };
  const read = (f: string) => fs.readFileSync(f, 'utf8');
  /** A queued run in the background: its exit code and stderr. */
  const background = (args: string[]) => {
    const child = spawn(tsx, [path.join(root, args[0]), ...args.slice(1), ...queueArgs()], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stderr: '', child };
    child.stderr!.on('data', (d) => (out.stderr += String(d)));
    return out;
  };

  beforeAll(async () => {
    redis = await startLocalRedis();
    await writeShapes(data, { n: 160, seed: 21 });
    const ready = Promise.all([startWorker(), startWorker(), startWorker()]);
    for (const args of [detectVal(local.val), detectPredict(local.predict), segmentVal(local.segment)]) {
      const r = cli(args[0], args.slice(1));
      if (r.code !== 0) throw new Error(`${args[0]}: ${r.stderr}`);
    }
    await ready;
  }, 600_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await redis?.stop();
  });

  it('detect:val in 20 shards merged by a flow equals the single-process val bit for bit (the same --json)', () => {
    const b = path.join(work, 'val-queue.json');
    const q = cli(detectVal(b)[0], [...detectVal(b).slice(1), ...queueArgs()]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toMatch(/160 items in 20 shards/);
    expect(read(b)).toBe(read(local.val));
  }, 300_000);

  it('detect:predict in 20 shards writes the same results.json and one drawn image per input', () => {
    const out = path.join(work, 'pred-queue');
    const q = cli(detectPredict(out)[0], [...detectPredict(out).slice(1), ...queueArgs()]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/workers: .+ \d+/);
    expect(read(path.join(out, 'results.json'))).toBe(read(path.join(local.predict, 'results.json')));
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.png'))).toHaveLength(160);
  }, 300_000);

  it('segment:val in 20 shards (confusion counts summed, mask-AP shards merged) equals the single-process val bit for bit', () => {
    const b = path.join(work, 'seg-queue.json');
    const q = cli(segmentVal(b)[0], [...segmentVal(b).slice(1), ...queueArgs()]);
    expect(q.code, q.stderr).toBe(0);
    expect(read(b)).toBe(read(local.segment));
  }, 300_000);

  it('an unreadable image in a shard is reported (failures.json) and the rest of the shard goes on', () => {
    const dir = path.join(work, 'some-bad');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(images()).slice(0, 5)) fs.copyFileSync(path.join(images(), f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, '00002.png'), ''); // 0 bytes
    const out = path.join(work, 'pred-bad');
    const q = cli('apps/detect/src/predict.ts', ['--model', model, '--images', dir, '--out', out, ...queueArgs()]);
    expect(q.code, q.stderr).toBe(0);
    expect(q.stderr).toMatch(/1 input\(s\) could not be read and were left out .*00002\.png.*0 bytes/);
    expect(JSON.parse(read(path.join(out, 'failures.json')))).toHaveLength(1);
    expect(JSON.parse(read(path.join(out, 'predictions.json')))).toHaveLength(4);
  }, 300_000);

  it('a worker killed with SIGKILL mid-shard: the shard is redone elsewhere, the same results.json', async () => {
    const out = path.join(work, 'pred-kill');
    const run = background(detectPredict(out));
    const victim = workers[0];
    let killed = false;
    victim.stdout!.on('data', (d) => {
      if (killed || !String(d).includes('done in')) return;
      killed = true;
      setTimeout(() => victim.kill('SIGKILL'), 100); // after its first shard the next is in hand: killed mid-shard
    });
    expect(await exitOf(run.child, 280_000), run.stderr).toBe(0);
    expect(killed).toBe(true);
    expect(read(path.join(out, 'results.json'))).toBe(read(path.join(local.predict, 'results.json')));
  }, 300_000);

  it('a producer killed mid-run and started again re-attaches to its jobs: the same answer, each shard run once', async () => {
    const out = path.join(work, 'pred-reattach');
    const args = [...detectPredict(out), ...queueArgs()];
    const first = spawn(tsx, [path.join(root, args[0]), ...args.slice(1)], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    first.stderr!.on('data', (d) => (stderr += String(d)));
    for (let i = 0; i < 2400 && !/shards done/.test(stderr); i++) await sleep(50);
    first.kill('SIGKILL');
    const again = cli(args[0], args.slice(1)); // the same command line: the same job family
    expect(again.code, again.stderr).toBe(0);
    const runId = /\(run (\S+)\)/.exec(again.stderr)![1];
    expect(stderr).toContain(`(run ${runId})`); // the same job family
    const runs = (s: number) => workerOutput.split(`predict ${runId}-s${String(s).padStart(5, '0')} done`).length - 1;
    // A worker's log line may reach this process after the producer saw the job complete: wait for every line.
    for (let i = 0; i < 100 && Array.from({ length: 20 }, (_, s) => runs(s)).some((n) => n === 0); i++) await sleep(50);
    expect(Array.from({ length: 20 }, (_, s) => runs(s))).toEqual(new Array(20).fill(1));
    expect(read(path.join(out, 'results.json'))).toBe(read(path.join(local.predict, 'results.json')));
  }, 300_000);

  it('Redis restarted mid-run (every job lost): workers reconnect, the producer submits again, the same --json', async () => {
    const b = path.join(work, 'val-restart.json');
    const run = background(detectVal(b));
    for (let i = 0; i < 2400 && !/shards done/.test(run.stderr); i++) await sleep(50); // mid-run: some shards done
    await redis.stop();
    await sleep(500);
    await redis.start();
    expect(await exitOf(run.child, 280_000), run.stderr).toBe(0);
    expect(run.stderr).toMatch(/not on the queue \(Redis restarted\?\): submitting them again/);
    expect(read(b)).toBe(read(local.val));
  }, 300_000);

  it('a bad --queue URL is one line and exit 1, with the password hidden', () => {
    const r = cli('apps/detect/src/val.ts', ['--model', model, '--data', ann, '--queue', 'http://:hunter2@x:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('hunter2');
    expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toEqual([expect.stringMatching(/not a redis:\/\/ or rediss:\/\/ URL/)]);
  });
});
