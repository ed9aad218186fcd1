/**
 * The DCGAN app as a user runs it: train on a small MNIST subset (scored by the shipped MNIST
 * classifier), sample grids and strips, bad input, and SIGKILL + --resume.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT as root, scriptEnv as env, scriptRunner, TSX as tsx } from '@cv/engine/testing';

const run = scriptRunner('apps/dcgan/src');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dcgan-app-'));

describe('dcgan app', () => {
  const runDir = path.join(work, 'run');

  it('trains: checkpoints, per-epoch grids and scores, a generator with metadata', () => {
    const r = run('train.ts', ['--train-limit', '256', '--epochs', '2', '--eval-samples', '100', '--width', '8', '--workers', '1', '--out', runDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/FID floor \(real test vs real train, classifier features\): \d+\.\d\d/);
    for (const f of [
      'samples/epoch_001.png',
      'samples/epoch_002.png',
      'checkpoints/last/state.json',
      'checkpoints/last/optimizer-generator.json',
      'checkpoints/last/optimizer-discriminator.json',
      'generator/model.json',
      'metrics.csv',
      'plots/metrics.png',
      'report.json',
      'report.md',
    ]) {
      expect(fs.existsSync(path.join(runDir, f)), f).toBe(true);
    }
    const history = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(history.map((h) => h.epoch)).toEqual([1, 2]);
    for (const key of ['d_loss', 'g_loss', 'd_real', 'd_fake', 'fid', 'confidence', 'class_entropy', 'time'])
      expect(Number.isFinite(history[1][key]), key).toBe(true);
    const meta = JSON.parse(fs.readFileSync(path.join(runDir, 'generator/model.json'), 'utf8')).userDefinedMetadata;
    expect(meta).toMatchObject({ task: 'dcgan', latentDim: 100, imageShape: [28, 28, 1], classNames: [], dataset: 'mnist' });
  });

  it('samples: a grid PNG of the right size', async () => {
    const out = path.join(work, 'grid.png');
    const r = run('sample.ts', ['--model', runDir, '--n', '12', '--cols', '4', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const info = await sharp(out).metadata();
    expect([info.width, info.height]).toEqual([4 * 28 + 5 * 2, 3 * 28 + 4 * 2]);
  });

  it('samples: an interpolation strip, and JSON scores from a classifier', async () => {
    const out = path.join(work, 'strip.png');
    const r = run('sample.ts', ['--model', path.join(runDir, 'generator'), '--n', '6', '--interpolate', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const info = await sharp(out).metadata();
    expect([info.width, info.height]).toEqual([6 * 28 + 7 * 2, 28 + 2 * 2]);
    const j = run('sample.ts', ['--model', runDir, '--n', '50', '--eval-classifier', 'models/classify/mnist', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const scores = JSON.parse(j.stdout.trim());
    expect(Object.keys(scores).sort()).toEqual(['classEntropy', 'fid', 'fidFloor', 'meanConfidence']);
    expect(scores.classEntropy).toBeGreaterThanOrEqual(0);
    expect(scores.classEntropy).toBeLessThanOrEqual(1);
    expect(scores.fid).toBeGreaterThan(scores.fidFloor); // two epochs on 256 images are far from real digits
  });

  it('val: FID, floor, confidence and entropy as JSON, report.md; equal to sample --eval-classifier on the same draw', () => {
    const json = path.join(work, 'val.json');
    const v = run('val.ts', ['--model', runDir, '--n', '50', '--json', json, '--out', path.join(work, 'val')]);
    expect(v.code, v.stderr).toBe(0);
    const val = JSON.parse(fs.readFileSync(json, 'utf8'));
    for (const k of ['fid', 'fidFloor', 'meanConfidence', 'classEntropy']) expect(Number.isFinite(val[k]), k).toBe(true);
    const s = run('sample.ts', ['--model', runDir, '--n', '50', '--eval-classifier', 'models/classify/mnist', '--json']);
    const scores = JSON.parse(s.stdout.trim());
    expect(val.fid).toBe(scores.fid); // one scoring path: the same seed draws the same 50 samples
    expect(val.meanConfidence).toBe(scores.meanConfidence);
    for (const f of ['report.json', 'report.md', 'plots/samples.png']) expect(fs.existsSync(path.join(work, 'val', f)), f).toBe(true);
  });

  it('predict: n PNGs, a grid and predictions.json; export tfjs and ONNX (ONNX Runtime draws the same images)', async () => {
    const out = path.join(work, 'pred');
    const p = run('predict.ts', ['--model', runDir, '--n', '5', '--seed', '3', '--out', out]);
    expect(p.code, p.stderr).toBe(0);
    expect(fs.readdirSync(out).filter((f) => /^sample_\d{3}\.png$/.test(f))).toHaveLength(5);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'predictions.json'), 'utf8'))).toHaveLength(5);
    expect((await sharp(path.join(out, 'sample_000.png')).metadata()).width).toBe(28);
    for (const format of ['tfjs', 'onnx']) {
      const e = run('export.ts', ['--model', path.join(runDir, 'generator'), '--format', format, '--out', path.join(work, `g-${format}`)]);
      expect(e.code, e.stderr).toBe(0);
    }
    const onnx = path.join(work, 'pred-onnx');
    expect(run('predict.ts', ['--model', path.join(work, 'g-onnx'), '--n', '5', '--seed', '3', '--out', onnx]).code).toBe(0);
    const pixels = async (f: string) => (await sharp(f).raw().toBuffer()).toJSON().data;
    for (let i = 0; i < 5; i++) {
      const a = await pixels(path.join(out, `sample_00${i}.png`));
      const b = await pixels(path.join(onnx, `sample_00${i}.png`));
      expect(Math.max(...a.map((v, j) => Math.abs(v - b[j])))).toBeLessThanOrEqual(1); // 8-bit rounding of a 1e-6 difference
    }
  });

  it.each([
    [['--model', 'no/such/dir', '--n', '4', '--out', 'x.png'], /--model 'no\/such\/dir' has no generator/],
    [['--model', '<run>', '--n', '0', '--out', 'x.png'], /--n must be at least 1 \(got 0\)/],
    [['--model', '<run>', '--n', '4', '--class', '7', '--out', 'x.png'], /--class needs a class-conditional generator/],
    [['--model', '<run>', '--n', '4'], /nothing to do/],
  ])('bad input %j: one clear line, exit 1', (args, message) => {
    const r = run(
      'sample.ts',
      args.map((a) => (a === '<run>' ? runDir : a)),
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('train rejects an image size the nets cannot build, leaving nothing behind', () => {
    const out = path.join(work, 'bad');
    const r = run('train.ts', ['--dataset', 'mnist', '--batch-size', '100000', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/config key 'batchSize'/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('two data-parallel replicas, SIGKILL mid-run then --resume: same generator weights and same fixed-latent grids as an uninterrupted run', async () => {
    const args = (out: string) => [
      '--train-limit',
      '320',
      '--epochs',
      '3',
      '--width',
      '8',
      '--eval-classifier',
      'none',
      '--seed',
      '5',
      '--workers',
      '2',
      '--out',
      out,
    ];
    const full = path.join(work, 'full');
    const killed = path.join(work, 'killed');
    const a = spawnSync(tsx, [path.join(root, 'apps/dcgan/src/train.ts'), ...args(full)], { cwd: root, encoding: 'utf8', env: env() });
    expect(a.status, a.stderr).toBe(0);
    const child = spawn(tsx, [path.join(root, 'apps/dcgan/src/train.ts'), ...args(killed)], { cwd: root, env: env(), stdio: 'ignore', detached: true });
    const state = path.join(killed, 'checkpoints', 'last', 'state.json');
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && !(fs.existsSync(state) && JSON.parse(fs.readFileSync(state, 'utf8')).epoch >= 1)) await sleep(50);
    process.kill(-child.pid!, 'SIGKILL');
    await sleep(300);
    const epochAtKill = JSON.parse(fs.readFileSync(state, 'utf8')).epoch;
    expect(epochAtKill).toBeLessThan(3);
    expect(fs.existsSync(path.join(killed, 'generator'))).toBe(false);
    const b = spawnSync(tsx, [path.join(root, 'apps/dcgan/src/train.ts'), '--resume', killed], { cwd: root, encoding: 'utf8', env: env() });
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain(`${epochAtKill} epochs done`);
    expect(b.stdout).toContain('2 replica(s)');
    const weights = (dir: string) => {
      const buf = fs.readFileSync(path.join(dir, 'generator', 'weights.bin'));
      return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    };
    const wa = weights(full);
    const wb = weights(killed);
    expect(wb.length).toBe(wa.length);
    let maxDiff = 0;
    for (let i = 0; i < wa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(wa[i] - wb[i]));
    expect(maxDiff).toBeLessThan(1e-5);
    const grid = (dir: string, e: number) => fs.readFileSync(path.join(dir, 'samples', `epoch_00${e}.png`));
    for (const e of [1, 2, 3]) expect(grid(killed, e).equals(grid(full, e)), `epoch ${e} grid`).toBe(true);
  });
});
