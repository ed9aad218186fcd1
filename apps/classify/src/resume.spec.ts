/**
 * SIGKILL in the middle of training, then --resume: the run ends with the same weights as an
 * uninterrupted run with the same seed (a small MNIST subset, reference CNN with dropout and BN).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { REPO_ROOT as root, scriptEnv as env, TSX as tsx } from '@cv/engine/testing';

const train = path.join(root, 'apps/classify/src/train.ts');
const args = (out: string) => ['--dataset', 'mnist', '--train-limit', '640', '--epochs', '3', '--seed', '3', '--out', out];

function weights(dir: string): Float32Array {
  const buf = fs.readFileSync(path.join(dir, 'model', 'weights.bin'));
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('train killed with SIGKILL mid-run and resumed ends with the same weights as an uninterrupted run', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'classify-resume-'));
  const full = path.join(work, 'full');
  const killed = path.join(work, 'killed');
  const a = spawnSync(tsx, [train, ...args(full)], { cwd: root, encoding: 'utf8', env: env() });
  expect(a.status, a.stderr).toBe(0);

  const child = spawn(tsx, [train, ...args(killed)], { cwd: root, env: env(), stdio: 'ignore', detached: true });
  const state = path.join(killed, 'checkpoints', 'last', 'state.json');
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (fs.existsSync(state) && JSON.parse(fs.readFileSync(state, 'utf8')).epoch >= 1) break;
    await sleep(100);
  }
  await sleep(500); // into epoch 2
  process.kill(-child.pid!, 'SIGKILL'); // the whole process group: tsx and its node child
  await sleep(300);
  expect(fs.existsSync(path.join(killed, 'model'))).toBe(false); // it never finished
  const epochAtKill = JSON.parse(fs.readFileSync(state, 'utf8')).epoch;
  expect(epochAtKill).toBeLessThan(3);

  const b = spawnSync(tsx, [train, '--resume', killed], { cwd: root, encoding: 'utf8', env: env() });
  expect(b.status, b.stderr).toBe(0);
  expect(b.stdout).toContain(`resumed from ${path.join(killed, 'checkpoints', 'last')}: ${epochAtKill} epochs done`);
  const wa = weights(full);
  const wb = weights(killed);
  expect(wb.length).toBe(wa.length);
  let maxDiff = 0;
  for (let i = 0; i < wa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[i] - wb[i]));
  expect(maxDiff).toBeLessThan(1e-5);
  const history = fs
    .readFileSync(path.join(killed, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l).epoch);
  expect(history).toEqual([1, 2, 3]);
});
