import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, writePng } from '@cv/data';
import { REPO_ROOT as root, scriptRunner } from '@cv/engine/testing';

const run = scriptRunner('apps/classify/src');

describe('classify app: train → val → predict → export on a small MNIST subset', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'classify-smoke-'));
  const runDir = path.join(work, 'run');
  const images: { file: string; label: string }[] = [];

  beforeAll(async () => {
    const { test } = loadMnist();
    for (const i of [0, 101, 202, 303, 404, 505]) {
      const file = path.join(work, `digit-${i}.png`);
      await writePng(file, test.images.subarray(i * 784, (i + 1) * 784), [28, 28, 1]);
      images.push({ file, label: test.classNames[test.labels[i]] });
    }
  });

  it('trains: loss falls, test accuracy is well above chance, files are written', () => {
    const r = run('train.ts', ['--dataset', 'mnist', '--model', 'reference-cnn', '--epochs', '2', '--train-limit', '1200', '--out', runDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^\[engine\] backend=wasm kernels=(onednn|wasm) threads=\d+/);
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ backend: 'wasm', epochs: 2 });
    expect(report.accuracy).toBeGreaterThan(0.5); // chance is 0.1
    expect(report.trainSeconds).toBeGreaterThan(0);
    const history = fs
      .readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(history[1].loss).toBeLessThan(history[0].loss);
    expect(history[1].accuracy).toBeGreaterThan(history[0].accuracy);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'args.json'), 'utf8'))).toMatchObject({ dataset: 'mnist', trainLimit: 1200 });
    expect(fs.existsSync(path.join(runDir, 'model', 'model.json'))).toBe(true);
  });

  it('resumes with a larger --epochs and keeps the saved config', () => {
    const r = run('train.ts', ['--resume', runDir, '--epochs', '3']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/resumed from .*2 epochs done/);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')).epochs).toBe(3);
    expect(run('train.ts', ['--resume', runDir, '--lr', '0.1']).stderr).toMatch(/only --epochs, --time, --threads, --device may change/);
  });

  it('val writes report.json, report.md and both plots', () => {
    for (const f of ['report.json', 'report.md', 'plots/training_curves.png', 'plots/confusion_matrix.png']) fs.rmSync(path.join(runDir, f), { force: true });
    const r = run('val.ts', ['--run', runDir]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['report.json', 'report.md', 'plots/training_curves.png', 'plots/confusion_matrix.png']) {
      expect(fs.existsSync(path.join(runDir, f)), f).toBe(true);
    }
  });

  it('predict prints image, label and probability per line; --json prints an array', () => {
    const r = run('predict.ts', ['--model', path.join(runDir, 'model'), ...images.map((i) => i.file)]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    expect(lines.map((l) => l[0])).toEqual(images.map((i) => i.file));
    lines.forEach((l) => expect(Number(l[2])).toBeGreaterThan(0));
    const correct = lines.filter((l, i) => l[1] === images[i].label).length;
    expect(correct).toBeGreaterThanOrEqual(4);
    const json = JSON.parse(run('predict.ts', ['--model', path.join(runDir, 'model'), '--json', images[0].file]).stdout);
    expect(json[0]).toMatchObject({ image: images[0].file });
    expect(json[0].topK.length).toBe(3);
  });

  it('export writes a model that plain tfjs loads', () => {
    const out = path.join(work, 'exported');
    const r = run('export.ts', ['--model', path.join(runDir, 'model'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8'));
    expect(JSON.stringify(json.modelTopology)).not.toContain('SeededDropout');
    expect(json.userDefinedMetadata.classNames.length).toBe(10);
    expect(run('predict.ts', ['--model', out, images[0].file]).stdout).toContain(images[0].file);
  });

  it('export --quantize / --format onnx; val --model scores every variant on the test split; predict --runtime onnx agrees', () => {
    const model = path.join(runDir, 'model');
    const acc: Record<string, number> = {};
    for (const [name, args] of [
      ['fp32', []],
      ['uint8', ['--quantize', 'uint8']],
      ['float16', ['--quantize', 'float16']],
      ['onnx', ['--format', 'onnx']],
    ] as [string, string[]][]) {
      const out = path.join(work, `v-${name}`);
      const e = name === 'fp32' ? { code: 0, stderr: '' } : run('export.ts', ['--model', model, ...args, '--out', out]);
      expect(e.code, e.stderr).toBe(0);
      const json = path.join(work, `val-${name}.json`);
      const v = run('val.ts', ['--model', name === 'fp32' ? model : out, '--json', json]);
      expect(v.code, v.stderr).toBe(0);
      acc[name] = JSON.parse(fs.readFileSync(json, 'utf8')).accuracy;
    }
    expect(fs.existsSync(path.join(work, 'v-onnx', 'model.onnx'))).toBe(true);
    expect(fs.statSync(path.join(work, 'v-uint8', 'weights.bin')).size).toBeLessThan(0.3 * fs.statSync(path.join(model, 'weights.bin')).size);
    expect(acc.onnx).toBe(acc.fp32); // same predictions on 10,000 test images
    expect(Math.abs(acc.float16 - acc.fp32)).toBeLessThanOrEqual(0.001);
    expect(Math.abs(acc.uint8 - acc.fp32)).toBeLessThanOrEqual(0.01);
    const tfjs = JSON.parse(run('predict.ts', ['--model', model, '--json', ...images.map((i) => i.file)]).stdout);
    const onnx = JSON.parse(run('predict.ts', ['--model', model, '--runtime', 'onnx', '--json', ...images.map((i) => i.file)]).stdout);
    onnx.forEach((p: { label: string; probability: number }, i: number) => {
      expect(p.label).toBe(tfjs[i].label);
      expect(Math.abs(p.probability - tfjs[i].probability)).toBeLessThan(1e-4);
    });
    const bad = run('export.ts', ['--model', model, '--quantize', 'int4', '--out', path.join(work, 'bad')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/config key 'quantize'.*"float16"\|"uint8"/);
    expect(run('export.ts', ['--model', model, '--format', 'onnx', '--quantize', 'uint8', '--out', path.join(work, 'bad')]).stderr).toMatch(
      /--quantize applies to the tfjs format/,
    );
    expect(fs.existsSync(path.join(work, 'bad'))).toBe(false);
  });

  it('prune: 50 % magnitude sparsity after a short fine-tune by the training job, accuracy kept', () => {
    const out = path.join(work, 'pruned');
    const r = run('prune.ts', ['--model', path.join(runDir, 'model'), '--sparsity', '0.5', '--epochs', '1', '--train-limit', '600', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')).userDefinedMetadata;
    expect(meta.pruning).toMatchObject({ method: 'magnitude', target: 0.5 });
    expect(meta.pruning.sparsity).toBeCloseTo(0.5, 3);
    const report = JSON.parse(fs.readFileSync(path.join(`${out}-finetune`, 'report.json'), 'utf8'));
    expect(report.accuracy).toBeGreaterThan(0.5);
    const channel = run('prune.ts', [
      '--model',
      path.join(runDir, 'model'),
      '--method',
      'channel',
      '--sparsity',
      '0.5',
      '--epochs',
      '1',
      '--train-limit',
      '300',
      '--out',
      path.join(work, 'narrow'),
    ]);
    expect(channel.code, channel.stderr).toBe(0);
    expect(channel.stdout).toMatch(/channel pruning: 2 layers narrowed/);
    expect(fs.statSync(path.join(work, 'narrow', 'weights.bin')).size).toBeLessThan(0.7 * fs.statSync(path.join(runDir, 'model', 'weights.bin')).size);
  });

  it('trains a registry backbone from pretrained weights with a frozen phase and a slower backbone', () => {
    const donor = path.join(work, 'donor');
    expect(
      run('train.ts', ['--dataset', 'mnist', '--model', 'mobilenetv2-s', '--epochs', '1', '--train-limit', '128', '--val-fraction', '0', '--out', donor]).code,
    ).toBe(0);
    const r = run('train.ts', [
      '--dataset',
      'mnist',
      '--model',
      'mobilenetv2-s',
      '--epochs',
      '2',
      '--train-limit',
      '128',
      '--val-fraction',
      '0',
      '--pretrained',
      path.join(donor, 'model'),
      '--freeze',
      'stage2',
      '--freeze-epochs',
      '1',
      '--finetune-lr',
      '1e-4',
      '--mixup',
      '0.2',
      '--out',
      path.join(work, 'ft'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/pretrained: \d+ layers loaded from .*donor/);
    expect(r.stdout).toContain('stage2 frozen for 1 epoch(s)');
    const state = JSON.parse(fs.readFileSync(path.join(work, 'ft', 'checkpoints', 'last', 'state.json'), 'utf8'));
    expect(Object.keys(state.learningRates).sort()).toEqual(['backbone', 'head', 'phase1']);
    expect(state.learningRates.backbone / state.learningRates.head).toBeCloseTo(1e-4 / 2e-3, 6);
  });

  it.each([
    ['train.ts', ['--epochz', '2'], /unknown config key 'epochz'/],
    ['train.ts', ['--epochs', 'two'], /config key 'epochs': expected a number/],
    ['train.ts', ['--dataset', '/no/such/folder'], /neither a built-in .* nor an existing folder/],
    ['train.ts', ['--resume', os.tmpdir()], /is not a run directory/],
    ['predict.ts', ['--model', os.tmpdir(), 'x.png'], /is not a tfjs model \(no model.json\)/],
    ['predict.ts', ['--model', '__RUN__/model', '/no/such.png'], /does not exist/],
    ['val.ts', ['--run', os.tmpdir()], /is not a run directory/],
    [
      'train.ts',
      ['--dataset', 'mnist', '--model', 'resnet-99'],
      /config key 'model': must be one of: simple-cnn, reference-cnn, vgg-s, resnet-s, mobilenetv2-s/,
    ],
    ['train.ts', ['--dataset', 'mnist', '--model', 'resnet-s', '--freeze', 'stage9'], /'stage9' is not a stage of this backbone; stages: stem, stage1/],
    ['train.ts', ['--dataset', 'mnist', '--model', 'reference-cnn', '--pretrained'], /need a backbone model/],
    ['train.ts', ['--dataset', 'mnist', '--model', 'resnet-s', '--pretrained', '__RUN__/model'], /do not match 'resnet-s': 0 of \d+ backbone layers loaded/],
  ])('%s %j fails with one clear line', (script, args, message) => {
    const before = fs.existsSync(path.join(root, 'runs', 'classify')) ? fs.readdirSync(path.join(root, 'runs', 'classify')) : [];
    const r = run(
      script as string,
      (args as string[]).map((a) => a.replace('__RUN__', runDir)),
    );
    const after = fs.existsSync(path.join(root, 'runs', 'classify')) ? fs.readdirSync(path.join(root, 'runs', 'classify')) : [];
    expect(after).toEqual(before); // nothing half-written
    expect(r.code).toBe(1);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('[engine]')); // predict logs its backend to stderr
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(r.stderr).toMatch(message as RegExp);
  });
});
