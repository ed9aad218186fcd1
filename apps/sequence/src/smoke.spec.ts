import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateWaves, wavesCsv } from '@cv/data';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

function run(script: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, CV_BACKEND: 'wasm' };
  delete env.FORCE_COLOR;
  const r = spawnSync(tsx, [path.join(root, 'apps/sequence/src', script), ...args], { cwd: root, encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sequence app: train → val → predict → export on a small CSV of waves', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sequence-smoke-'));
  const csv = path.join(work, 'waves.csv');
  const runDir = path.join(work, 'run');

  const waves = generateWaves(300, 3);

  beforeAll(() => {
    fs.writeFileSync(csv, wavesCsv(waves));
  });

  it('trains from a CSV with variable lengths: report.json with accuracy above chance', () => {
    const r = run('train.ts', [
      '--dataset',
      csv,
      '--model',
      'conv1d',
      '--width',
      '16',
      '--epochs',
      '6',
      '--batch-size',
      '16',
      '--lr',
      '0.005',
      '--out',
      runDir,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    expect(report.accuracy).toBeGreaterThan(0.35); // chance is 0.2
    expect(report.steps).toBe(Math.max(...waves.map((w) => w.values.length))); // padded to the longest series
    expect(fs.existsSync(path.join(runDir, 'model', 'model.json'))).toBe(true);
  });

  it('val scores the same test split as training; predict labels each row of a CSV; export loads', () => {
    const json = path.join(work, 'val.json');
    const v = run('val.ts', ['--model', path.join(runDir, 'model'), '--json', json]);
    expect(v.code, v.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    expect(JSON.parse(fs.readFileSync(json, 'utf8')).accuracy).toBeCloseTo(report.accuracy, 10);
    const rows = path.join(work, 'three.csv');
    fs.writeFileSync(rows, wavesCsv(generateWaves(3, 9)));
    const p = run('predict.ts', ['--model', path.join(runDir, 'model'), '--json', rows]);
    expect(p.code, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout);
    expect(out).toHaveLength(3);
    expect(['sine', 'square', 'sawtooth', 'triangle', 'chirp']).toContain(out[0].label);
    expect(out[0].truth).toBeDefined();
    const e = run('export.ts', ['--model', path.join(runDir, 'model'), '--out', path.join(work, 'exported')]);
    expect(e.code, e.stderr).toBe(0);
  });

  it.each([
    [['--dataset', 'mnist-colums'], /neither a built-in \(mnist-rows, mnist-pixels\) nor an existing CSV/],
    [['--dataset', 'mnist-rows', '--permute'], /--permute applies to --dataset mnist-pixels/],
    [['--model', 'lstm'], /config key 'model'/],
  ])('train %j fails with one clear line and writes nothing', (args, message) => {
    const out = path.join(work, `bad-${(args as string[]).join('')}`);
    const r = run('train.ts', [...(args as string[]), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
    expect(fs.existsSync(out)).toBe(false);
  });
});
