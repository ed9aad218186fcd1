import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readModelArtifacts, saveModel } from '@cv/engine';
import { freezeUpTo } from './freeze';
import { createBackbone, listBackbones, listReferenceBackbones } from './registry';
import { loadPretrained, WeightsMismatchError } from './weights';

describe('backbone registry', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it.each(
    listBackbones().flatMap(
      (name) =>
        (listReferenceBackbones().includes(name)
          ? [[name, [32, 32, 3]]] // torchvision layouts take RGB (their published weights do)
          : [
              [name, [32, 32, 3]],
              [name, [28, 28, 1]],
            ]) as [string, [number, number, number]][],
    ),
  )('%s on %j: every feature map has its declared channels and reduction, no NaN, no leak', (name, inputShape) => {
    const widthMult = listReferenceBackbones().includes(name) ? 0.25 : undefined;
    const { model, featureInfo, stages } = createBackbone(name, { inputShape, featuresOnly: true, seed: 1, widthMult });
    expect(featureInfo).toEqual(stages);
    const before = tf.memory().numTensors;
    const outs = tf.tidy(() => {
      const o = model.predict(tf.randomUniform([2, ...inputShape], 0, 1, 'float32', 3));
      return (Array.isArray(o) ? o : [o]).map((t) => ({ shape: t.shape, finite: tf.all(tf.isFinite(t)).dataSync()[0] === 1 }));
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(outs).toHaveLength(featureInfo.length);
    outs.forEach((o, i) => {
      const info = featureInfo[i];
      expect(o.shape, info.name).toEqual([2, Math.ceil(inputShape[0] / info.reduction), Math.ceil(inputShape[1] / info.reduction), info.channels]);
      expect(o.finite, info.name).toBe(true);
    });
    model.dispose();
  });

  it('outIndices selects maps; bad names and indices are clear errors', () => {
    const { featureInfo, model } = createBackbone('resnet-s', { inputShape: [64, 64, 3], featuresOnly: true, outIndices: [2, 3, 4] });
    expect(featureInfo.map((f) => [f.name, f.channels, f.reduction])).toEqual([
      ['stage2', 32, 4],
      ['stage3', 64, 8],
      ['stage4', 128, 16],
    ]);
    model.dispose();
    expect(() => createBackbone('resnet-99', { inputShape: [28, 28, 1] })).toThrow(
      /unknown backbone 'resnet-99'; available: simple-cnn, vgg-s, resnet-s, mobilenetv2-s/,
    );
    expect(() => createBackbone('vgg-s', { inputShape: [28, 28, 1], outIndices: [7] })).toThrow(/outIndices 7 is out of range/);
    expect(() => createBackbone('vgg-s', { inputShape: [28, 28, 2] })).toThrow(/1 or 3 channels/);
  });

  it('freezeUpTo freezes the named stages and refuses unknown ones', () => {
    const { model, stages } = createBackbone('resnet-s', { inputShape: [28, 28, 1] });
    const frozen = freezeUpTo(model, stages, 'stage2');
    expect(frozen.some((n) => n.startsWith('stem_'))).toBe(true);
    expect(frozen.some((n) => n.startsWith('stage2_'))).toBe(true);
    expect(frozen.some((n) => n.startsWith('stage3_'))).toBe(false);
    expect(model.trainableWeights.every((w) => !w.name.startsWith('stage1_'))).toBe(true);
    expect(() => freezeUpTo(model, stages, 'stage9')).toThrow(/'stage9' is not a stage of this backbone; stages: stem, stage1, stage2, stage3, stage4/);
    expect(freezeUpTo(model, stages, 'none')).toEqual([]);
    model.dispose();
  });

  it('loadPretrained copies matching layers by name, skips a different head, and names mismatches', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrained-'));
    const a = createBackbone('vgg-s', { inputShape: [16, 16, 1], seed: 1 }).model;
    await saveModel(a, dir);
    const b = createBackbone('vgg-s', { inputShape: [16, 16, 1], seed: 2 }).model;
    const report = await loadPretrained(b, 'vgg-s', dir);
    expect(report.loaded.length).toBeGreaterThan(0);
    expect(Array.from(b.getWeights()[0].dataSync())).toEqual(Array.from(a.getWeights()[0].dataSync()));
    const rgb = createBackbone('vgg-s', { inputShape: [16, 16, 3], seed: 2 }).model; // first conv differs in shape
    const partial = await loadPretrained(rgb, 'vgg-s', dir);
    expect(partial.skipped.find((s) => s.layer === 'stage1_c1_conv')?.reason).toMatch(/shapes differ/);
    const other = createBackbone('resnet-s', { inputShape: [16, 16, 1] }).model;
    await expect(loadPretrained(other, 'resnet-s', dir)).rejects.toThrow(WeightsMismatchError);
    await expect(loadPretrained(other, 'resnet-s', dir)).rejects.toThrow(/do not match 'resnet-s': 0 of \d+ backbone layers loaded/);
    [a, b, rgb, other].forEach((m) => m.dispose());
  });

  it('loadPretrained also takes an in-memory tf.io handler and a URL, as a browser would', async () => {
    const a = createBackbone('vgg-s', { inputShape: [16, 16, 1], seed: 1 }).model;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pretrained-'));
    await saveModel(a, dir);
    const fromMemory = createBackbone('vgg-s', { inputShape: [16, 16, 1], seed: 3 }).model;
    const report = await loadPretrained(fromMemory, 'vgg-s', tf.io.fromMemory(readModelArtifacts(dir)));
    expect(report.source).toBe('an in-memory model');
    expect(Array.from(fromMemory.getWeights()[0].dataSync())).toEqual(Array.from(a.getWeights()[0].dataSync()));
    // A URL goes to tfjs's HTTP loader (fetch); serve the folder from a local HTTP server.
    const server = http.createServer((req, res) => res.end(fs.readFileSync(path.join(dir, path.basename(req.url ?? '')))));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const fromUrl = createBackbone('vgg-s', { inputShape: [16, 16, 1], seed: 4 }).model;
    await loadPretrained(fromUrl, 'vgg-s', `http://127.0.0.1:${port}/model.json`);
    server.close();
    expect(Array.from(fromUrl.getWeights()[0].dataSync())).toEqual(Array.from(a.getWeights()[0].dataSync()));
    [a, fromMemory, fromUrl].forEach((m) => m.dispose());
  });
});
