import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '@cv/data';
import { registerEngineLayers, resizeCenterCrop } from '@cv/engine/core';
import {
  compareWithReference,
  createBackbone,
  createReferenceClassifier,
  freezeUpTo,
  importTorchWeights,
  listReferenceBackbones,
  loadPretrained,
  readSafetensors,
  WeightsFileError,
  WeightsMismatchError,
} from './index';

// Tiny torchvision models (narrow widths, same structure and names) with random weights and BatchNorm statistics,
// their safetensors state dicts and default ONNX exports (BatchNorm folded), and PyTorch's outputs:
// tools/bench/torchvision_reference.py --tiny --out libs/backbones/fixtures/torchvision
const FIXTURES = path.resolve(__dirname, '../fixtures/torchvision');
registerEngineLayers();

describe('reference architectures equal torchvision', () => {
  for (const arch of listReferenceBackbones()) {
    for (const ext of ['safetensors', 'onnx'] as const) {
      it(`${arch} from ${ext}: every stage's features and the logits within 1e-4 of PyTorch`, () => {
        const before = tf.memory().numTensors;
        const c = compareWithReference(FIXTURES, arch, ext);
        expect(c.outputs.map((o) => o.name)).toEqual(['stem', 'stage1', 'stage2', 'stage3', 'stage4', 'logits']);
        for (const o of c.outputs) {
          expect(o.maxAbs, `${o.name}`).toBeLessThan(1e-4);
          expect(o.maxRel, `${o.name}`).toBeLessThan(1e-5);
        }
        // The default ONNX export folds BatchNorm into the convolutions: imported by graph order, BN rebuilt.
        if (ext === 'onnx') expect(c.format).toBe('onnx (graph order)');
        if (ext === 'onnx') expect(c.folded).toBeGreaterThan(0);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('a wrong-architecture file is refused with the mismatch report in one line, the model untouched', () => {
    const from = path.join(FIXTURES, 'resnet50.safetensors');
    const before = tf.memory().numTensors;
    const run = () => importTorchWeights({ from, arch: 'resnet18', widthMult: 0.03125, inputShape: [40, 40, 3] });
    expect(run).toThrow(WeightsMismatchError);
    // A Bottleneck file read as BasicBlocks: the stem matches, the blocks do not, conv3 / downsample are left over.
    expect(run).toThrow(
      /resnet50\.safetensors does not fit resnet18: \d+ tensors match, \d+ missing, \d+ of another shape, \d+ unexpected \(layer1\.0\.conv1\.weight: file \[2,2,1,1\] vs resnet18 \[2,2,3,3\];.*pass the matching --arch$/,
    );
    expect(tf.memory().numTensors).toBe(before);
    // So is the ONNX export of another architecture, at the first operator that differs.
    expect(() => importTorchWeights({ from: path.join(FIXTURES, 'mobilenet_v2.onnx'), arch: 'resnet18', widthMult: 0.0625 })).toThrow(
      /does not fit resnet18: .*conv1\.weight ↔ .*file \[8,3,3,3\] vs resnet18 \[4,3,7,7\]/,
    );
    // And a file of the right architecture at another width.
    expect(() => importTorchWeights({ from: path.join(FIXTURES, 'resnet18.safetensors'), arch: 'resnet18' })).toThrow(
      /file \[4,3,7,7\] vs resnet18 \[64,3,7,7\]/,
    );
  });

  it('a corrupt or truncated file gets one line naming it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-'));
    const good = fs.readFileSync(path.join(FIXTURES, 'resnet18.safetensors'));
    const cut = path.join(dir, 'cut.safetensors');
    fs.writeFileSync(cut, good.subarray(0, good.length - 100));
    expect(() => importTorchWeights({ from: cut, arch: 'resnet18', widthMult: 0.0625 })).toThrow(
      new RegExp(`^${cut}: not a readable safetensors file \\(tensor '.*' lies past the end of the file \\(truncated\\?\\)\\)`),
    );
    const junk = path.join(dir, 'junk.safetensors');
    fs.writeFileSync(junk, Buffer.from('not a safetensors file at all'));
    expect(() => importTorchWeights({ from: junk, arch: 'resnet18' })).toThrow(WeightsFileError);
    const onnx = fs.readFileSync(path.join(FIXTURES, 'resnet18.onnx'));
    const cutOnnx = path.join(dir, 'cut.onnx');
    fs.writeFileSync(cutOnnx, onnx.subarray(0, onnx.length >> 1));
    expect(() => importTorchWeights({ from: cutOnnx, arch: 'resnet18', widthMult: 0.0625 })).toThrow(new RegExp(`^${cutOnnx}: not a readable ONNX file`));
    expect(() => importTorchWeights({ from: path.join(dir, 'nothing.onnx'), arch: 'resnet18' })).toThrow(/does not exist/);
    expect(() => importTorchWeights({ from: cut, arch: 'resnet-s' })).toThrow(/one of the suite's own backbones; weights import into: resnet18/);
    fs.rmSync(dir, { recursive: true });
  });

  it('reads F16 / BF16 safetensors and a features-only file (no head) as a backbone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'import-'));
    const tensors = readSafetensors(fs.readFileSync(path.join(FIXTURES, 'resnet18.safetensors')), 'r18');
    // Write the state dict without the head, as float16: a backbone whose weights are the fp16-rounded ones.
    const entries = [...tensors].filter(([k]) => !k.startsWith('fc.'));
    const header: Record<string, unknown> = {};
    let offset = 0;
    const blobs: Buffer[] = [];
    for (const [k, t] of entries) {
      const half = Buffer.from(new Uint16Array(Array.from(t.data, (v) => toHalf(v))).buffer);
      header[k] = { dtype: 'F16', shape: t.shape, data_offsets: [offset, offset + half.length] };
      offset += half.length;
      blobs.push(half);
    }
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const file = path.join(dir, 'backbone.safetensors');
    fs.writeFileSync(file, Buffer.concat([len, json, ...blobs]));
    const back = readSafetensors(fs.readFileSync(file), file);
    const w = back.get('conv1.weight')!;
    const orig = tensors.get('conv1.weight')!;
    expect(Math.max(...Array.from(w.data, (v, i) => Math.abs(v - orig.data[i])))).toBeLessThan(2e-3);
    const r = importTorchWeights({ from: dir, arch: 'resnet18', widthMult: 0.0625, inputShape: [40, 40, 3] });
    expect(r.head).toBe(false);
    expect(r.report.missing).toEqual([]);
    expect(r.model.outputs[0].shape).toEqual([null, 2, 2, 32]);
    r.model.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('an imported backbone fine-tunes: same layer names in a new classifier, --freeze by stage, head left fresh', async () => {
    const r = importTorchWeights({
      from: path.join(FIXTURES, 'mobilenet_v3_small.safetensors'),
      arch: 'mobilenet_v3_small',
      widthMult: 0.1,
      inputShape: [48, 48, 3],
    });
    const handler = tf.io.withSaveHandler(async (a) => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' }, ...((saved = a), {}) }));
    let saved: tf.io.ModelArtifacts | undefined;
    await r.model.save(handler);
    const target = createReferenceClassifier('mobilenet_v3_small', { inputShape: [64, 64, 3], numClasses: 3, widthMult: 0.1, seed: 1 });
    const report = await loadPretrained(target.model, 'mobilenet_v3_small', tf.io.fromMemory(saved!));
    expect(report.skipped.map((s) => s.layer)).toEqual(['head_fc']);
    const w0 = target.model.getLayer('features_1_block_0_0').getWeights()[0];
    const src = r.model.getLayer('features_1_block_0_0').getWeights()[0];
    expect(tf.max(tf.abs(tf.sub(w0, src))).dataSync()[0]).toBe(0);
    const frozen = freezeUpTo(target.model, target.stages, 'stage2');
    expect(frozen).toContain('features_3_block_0_0');
    expect(frozen).not.toContain('features_4_block_0_0');
    expect(frozen).not.toContain('head_fc');
    r.model.dispose();
    target.model.dispose();
  });

  it('stages expose strides 4..32 for detect and segment encoders', () => {
    for (const arch of listReferenceBackbones()) {
      const b = createBackbone(arch, { inputShape: [64, 64, 3], featuresOnly: true, outIndices: [2, 3, 4], widthMult: 0.25 });
      expect(b.featureInfo.map((f) => f.reduction)).toEqual([8, 16, 32]);
      expect(b.model.outputs.map((o) => o.shape[1])).toEqual([8, 4, 2]);
      b.model.dispose();
    }
  });
});

describe('torchvision eval preprocessing', () => {
  it("Resize + CenterCrop equal Pillow's bytes exactly (bilinear and bicubic, shrinking and enlarging)", async () => {
    const meta = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'resize.json'), 'utf8'));
    const blob = fs.readFileSync(path.join(FIXTURES, 'resize-expected.bin'));
    const img = await decodeImage(path.join(FIXTURES, meta.source));
    for (const c of meta.cases) {
      const out = resizeCenterCrop(img, c);
      const n = c.shape.reduce((a: number, b: number) => a * b, 1);
      expect([out.height, out.width, 3]).toEqual(c.shape);
      expect(Buffer.from(out.data).equals(blob.subarray(c.offset, c.offset + n)), `${c.interpolation} ${c.resize}/${c.crop}`).toBe(true);
    }
  });
});

function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const e = ((x >>> 23) & 0xff) - 127 + 15;
  let m = x & 0x7fffff;
  if (e <= 0) {
    if (e < -10) return sign;
    m = (m | 0x800000) >> (1 - e);
    return sign | ((m + 0x1000) >> 13);
  }
  if (e >= 31) return sign | 0x7c00;
  return sign | (e << 10) | ((m + 0x1000) >> 13);
}
