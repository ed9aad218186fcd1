import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { generateWaves, wavesCsv } from '@cv/data';
import { scriptRunner } from '@cv/engine/testing';

const run = scriptRunner('apps/sequence/src');

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

  it('export: tfjs that a stock loader reads and ONNX (checked by ONNX Runtime), for conv1d and TCN; val agrees under ONNX Runtime', async () => {
    const tcn = path.join(work, 'tcn');
    const t = run('train.ts', ['--dataset', csv, '--model', 'tcn', '--width', '8', '--epochs', '1', '--batch-size', '32', '--out', tcn]);
    expect(t.code, t.stderr).toBe(0);
    for (const [name, model] of [
      ['conv1d', path.join(runDir, 'model')],
      ['tcn', path.join(tcn, 'model')],
    ]) {
      const plain = path.join(work, `${name}-tfjs`);
      const e = run('export.ts', ['--model', model, '--out', plain]);
      expect(e.code, e.stderr).toBe(0);
      const json = JSON.parse(fs.readFileSync(path.join(plain, 'model.json'), 'utf8'));
      expect(JSON.stringify(json.modelTopology)).not.toMatch(/DilatedCausalConv1D|CausalPadding1D|MaskedGlobalAveragePooling1D|SeededDropout/);
      // This process never registered the sequence layers: a stock tfjs loader.
      const buf = fs.readFileSync(path.join(plain, 'weights.bin'));
      const loaded = await tf.loadLayersModel(
        tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(buf).buffer }),
      );
      expect(loaded.inputs.map((i) => i.name)).toHaveLength(2);
      loaded.dispose();
      const onnx = path.join(work, `${name}-onnx`);
      const o = run('export.ts', ['--model', model, '--format', 'onnx', '--out', onnx]);
      expect(o.code, o.stderr).toBe(0);
      expect(o.stdout).toMatch(/ONNX Runtime vs tfjs max \|Δ\| \d/);
      const a = path.join(work, `${name}-val-tfjs.json`);
      const b = path.join(work, `${name}-val-onnx.json`);
      expect(run('val.ts', ['--model', model, '--dataset', csv, '--json', a]).code).toBe(0);
      expect(run('val.ts', ['--model', onnx, '--dataset', csv, '--json', b]).code).toBe(0);
      expect(JSON.parse(fs.readFileSync(b, 'utf8')).accuracy).toBe(JSON.parse(fs.readFileSync(a, 'utf8')).accuracy);
    }
  }, 240_000);

  it('prune: 50 % magnitude sparsity after a one-epoch fine-tune by the training job', () => {
    const out = path.join(work, 'pruned');
    const r = run('prune.ts', ['--model', path.join(runDir, 'model'), '--sparsity', '0.5', '--epochs', '1', '--dataset', csv, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).userDefinedMetadata;
    expect(meta.pruning).toMatchObject({ method: 'magnitude', target: 0.5 });
    expect(meta.pruning.sparsity).toBeCloseTo(0.5, 2);
  }, 120_000);

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
