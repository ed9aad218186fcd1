/**
 * The detect app as a user runs it, on a tiny shapes set: train → val (--json) → predict (drawn PNGs +
 * COCO results) → export; val's stats equal COCOeval of predict's results at conf 0.001 / 100 per image;
 * bad input gives one line and exit 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COCO, COCOeval } from 'coco-ts-api';
import { describe, expect, it } from 'vitest';
import { writeShapes } from '@cv/data';
import { scriptRunner } from '@cv/engine/testing';

const run = scriptRunner('apps/detect/src');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'detect-app-'));

describe('detect app', () => {
  const data = path.join(work, 'shapes');
  const runDir = path.join(work, 'run');

  it('trains, validates with COCO stats, predicts drawn images and COCO results, exports', async () => {
    await writeShapes(data, { n: 24, seed: 4 });
    const ann = path.join(data, 'annotations.json');
    const t = run('train.ts', ['--data', ann, '--epochs', '1', '--batch-size', '8', '--out', runDir]);
    expect(t.code, t.stderr).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    expect(report.stats.length).toBe(12);
    for (const f of [
      'model/model.json',
      'checkpoints/last/state.json',
      'metrics.csv',
      'report.md',
      'args.json',
      'plots/pr_curve.png',
      'plots/confusion_matrix.png',
    ])
      expect(fs.existsSync(path.join(runDir, f)), f).toBe(true);
    const json = path.join(work, 'val.json');
    const v = run('val.ts', ['--model', path.join(runDir, 'model'), '--data', ann, '--json', json]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/Average Precision {2}\(AP\) @\[ IoU=0\.50:0\.95 \| area= {3}all \| maxDets=100 \] = /);
    const val = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(val.stats.length).toBe(12);
    expect(val.perCategory.map((c: { categoryId: number }) => c.categoryId)).toEqual([1, 2, 3]);
    const out = path.join(work, 'pred');
    const p = run('predict.ts', [
      '--model',
      path.join(runDir, 'model'),
      '--images',
      path.join(data, 'images'),
      '--data',
      ann,
      '--out',
      out,
      '--conf',
      '0.001',
      '--max-det',
      '100',
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/24 images, \d+ detections → .*predict [\d.]+ s.* images\/s end to end/);
    expect(fs.readdirSync(out).filter((f) => f.endsWith('.png')).length).toBe(24);
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    for (const r of results.slice(0, 5)) expect(Object.keys(r).sort()).toEqual(['bbox', 'category_id', 'image_id', 'score']);
    // val's numbers are COCOeval's on predict's results (the same pre/post-processing path).
    const gt = new COCO(JSON.parse(fs.readFileSync(ann, 'utf8')));
    const E = new COCOeval(gt, gt.loadRes(results), 'bbox');
    E.evaluate();
    E.accumulate();
    expect(E.summarize(() => {})).toEqual(val.stats);
    const e = run('export.ts', ['--model', path.join(runDir, 'model'), '--out', path.join(work, 'exported')]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/task detect/);
  });

  it('exports ONNX (ONNX Runtime within 1e-4 of tfjs) whose val under ONNX Runtime gives the same stats; channel prune + fine-tune', () => {
    const ann = path.join(data, 'annotations.json');
    const onnx = path.join(work, 'onnx');
    const e = run('export.ts', ['--model', path.join(runDir, 'model'), '--format', 'onnx', '--out', onnx]);
    expect(e.code, e.stderr).toBe(0);
    const diff = Number(/max \|Δ\| ([\d.e+-]+)/.exec(e.stdout)![1]);
    expect(diff).toBeLessThanOrEqual(1e-4);
    const json = (name: string) => path.join(work, `val-${name}.json`);
    expect(run('val.ts', ['--model', path.join(runDir, 'model'), '--data', ann, '--json', json('tfjs')]).code).toBe(0);
    expect(run('val.ts', ['--model', onnx, '--data', ann, '--json', json('onnx')]).code).toBe(0);
    const [a, b] = ['tfjs', 'onnx'].map((n) => JSON.parse(fs.readFileSync(json(n), 'utf8')).stats as number[]);
    a.forEach((s, i) => expect(Math.abs(s - b[i]), `stat ${i}`).toBeLessThanOrEqual(0.01)); // a 1e-6 score difference may reorder near-ties
    const pruned = path.join(work, 'pruned');
    const p = run('prune.ts', [
      '--model',
      path.join(runDir, 'model'),
      '--method',
      'channel',
      '--sparsity',
      '0.25',
      '--epochs',
      '1',
      '--batch-size',
      '8',
      '--data',
      ann,
      '--out',
      pruned,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/channel pruning: \d+ layers narrowed/);
    const size = (dir: string) => fs.statSync(path.join(dir, 'weights.bin')).size;
    expect(size(pruned)).toBeLessThan(size(path.join(runDir, 'model')));
    expect(run('val.ts', ['--model', pruned, '--data', ann]).code).toBe(0);
  }, 240_000);

  it.each([
    [['--epochs', '1'], /detect:train needs --data/],
    [['--data', '/nope/annotations.json'], /COCO file '\/nope\/annotations.json' does not exist/],
    [['--data', 'x.json', '--imgsz', '100'], /not a multiple of 32|does not exist/],
  ])('train %j fails with one clear line', (args, message) => {
    const out = path.join(work, `bad-${Math.random().toString(36).slice(2)}`);
    const r = run('train.ts', [...args, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('error:')).length,
    ).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
  });
});
