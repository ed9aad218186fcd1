/**
 * The segment app as a user runs it, on a tiny shapes set: train → val (--json) → predict (class-index PNGs
 * + overlays) → export; val's mIoU equals the one computed from predict's mask PNGs against the truth masks;
 * bad input gives one line and exit 1 with nothing written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeShapes } from '@cv/data';
import { SegmentationConfusion, segmentationMetrics } from '@cv/metrics';
import { readClassMask } from '@cv/tasks-segment';
import { scriptRunner } from '@cv/engine/testing';

const run = scriptRunner('apps/segment/src');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'segment-app-'));

describe('segment app', () => {
  const data = path.join(work, 'shapes');
  const runDir = path.join(work, 'run');

  it('trains, validates with IoU reports, predicts mask PNGs whose mIoU is the one val reports, exports', async () => {
    await writeShapes(data, { n: 12, seed: 4 });
    const [images, masks] = [path.join(data, 'images'), path.join(data, 'masks')];
    const t = run('train.ts', ['--images', images, '--masks', masks, '--epochs', '1', '--batch-size', '4', '--imgsz', '64', '--out', runDir]);
    expect(t.code, t.stderr).toBe(0);
    for (const f of [
      'model/model.json',
      'checkpoints/last/state.json',
      'metrics.csv',
      'report.json',
      'report.md',
      'plots/per_class_iou.png',
      'plots/confusion_matrix.png',
    ])
      expect(fs.existsSync(path.join(runDir, f)), f).toBe(true);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    expect(Object.keys(report.perClassIou)).toEqual(['background', 'circle', 'square', 'triangle']);
    const json = path.join(work, 'val.json');
    const v = run('val.ts', ['--model', path.join(runDir, 'model'), '--images', images, '--masks', masks, '--json', json, '--out', path.join(work, 'val')]);
    expect(v.code, v.stderr).toBe(0);
    const val = JSON.parse(fs.readFileSync(json, 'utf8'));
    for (const k of ['miou', 'miouAll', 'perClassIou', 'pixelAccuracy', 'dice']) expect(val, k).toHaveProperty(k);
    expect(val.maskAp.length).toBe(12);
    expect(fs.existsSync(path.join(work, 'val', 'plots', 'worst_images.png'))).toBe(true);
    const out = path.join(work, 'pred');
    // val runs f32 by default, predict bf16 where the CPU has it: the same precision on both sides for equal numbers.
    const p = run('predict.ts', ['--model', path.join(runDir, 'model'), '--images', images, '--out', out, '--precision', 'f32']);
    expect(p.code, p.stderr).toBe(0);
    expect(fs.readdirSync(path.join(out, 'masks')).length).toBe(12);
    expect(fs.readdirSync(path.join(out, 'overlays')).length).toBe(12);
    // mIoU from the written PNGs against the truth: the same number val printed.
    const cm = new SegmentationConfusion(4);
    for (const f of fs.readdirSync(masks).filter((n) => n.endsWith('.png'))) {
      const pred = readClassMask(path.join(out, 'masks', f));
      expect([pred.width, pred.height]).toEqual([160, 160]);
      cm.add(readClassMask(path.join(masks, f)).data, pred.data);
    }
    expect(segmentationMetrics(cm).miou).toBe(val.miou);
    const e = run('export.ts', ['--model', path.join(runDir, 'model'), '--out', path.join(work, 'exported')]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/task segment/);
  }, 240_000);

  it('exports ONNX (ONNX Runtime within 1e-4 of tfjs) with the same mIoU under ONNX Runtime; channel prune + fine-tune', () => {
    const [images, masks] = [path.join(data, 'images'), path.join(data, 'masks')];
    const onnx = path.join(work, 'onnx');
    const e = run('export.ts', ['--model', path.join(runDir, 'model'), '--format', 'onnx', '--out', onnx]);
    expect(e.code, e.stderr).toBe(0);
    expect(Number(/max \|Δ\| ([\d.e+-]+)/.exec(e.stdout)![1])).toBeLessThanOrEqual(1e-4);
    const json = (name: string) => path.join(work, `val-${name}.json`);
    const args = ['--images', images, '--masks', masks, '--mask-ap', 'false'];
    expect(run('val.ts', ['--model', path.join(runDir, 'model'), ...args, '--json', json('tfjs')]).code).toBe(0);
    expect(run('val.ts', ['--model', onnx, ...args, '--json', json('onnx')]).code).toBe(0);
    const [a, b] = ['tfjs', 'onnx'].map((n) => JSON.parse(fs.readFileSync(json(n), 'utf8')).miou as number);
    expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-3); // a pixel whose two best classes tie within 1e-6 may flip
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
      '4',
      '--images',
      images,
      '--masks',
      masks,
      '--out',
      pruned,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/channel pruning: \d+ layers narrowed/);
    expect(fs.statSync(path.join(pruned, 'weights.bin')).size).toBeLessThan(fs.statSync(path.join(runDir, 'model', 'weights.bin')).size);
  }, 240_000);

  it.each([
    [['--epochs', '1'], /segment:train needs --images <dir> --masks <dir>/],
    [['--images', '/nope/images', '--masks', '/nope/masks'], /--images '\/nope\/images' is not a folder/],
    [['--images', 'x', '--masks', 'y', '--imgsz', '100'], /not a multiple of the encoder's reduction 8/],
    [['--images', 'x', '--masks', 'y', '--loss', 'ce+l2'], /'l2' is not a term/],
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
