import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { importTorchWeights } from './import';

/** A case written by tools/bench/torchvision_reference.py: an input, PyTorch's stage features and logits. */
export interface ReferenceCase {
  arch: string;
  options: { widthMult?: number; depthMult?: number };
  numClasses: number;
  arrays: Record<string, tf.Tensor>;
}

/** Reads `<dir>/<arch>.json` + `.expected.bin` (NHWC float32 arrays). */
export function readReferenceCase(dir: string, arch: string): ReferenceCase {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, `${arch}.json`), 'utf8'));
  const blob = fs.readFileSync(path.join(dir, `${arch}.expected.bin`));
  const arrays: Record<string, tf.Tensor> = {};
  for (const [key, a] of Object.entries(meta.arrays as Record<string, { shape: number[]; offset: number }>)) {
    const n = a.shape.reduce((x, y) => x * y, 1);
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(blob.subarray(a.offset, a.offset + 4 * n));
    arrays[key] = tf.tensor(data, a.shape);
  }
  return { arch, options: meta.options ?? {}, numClasses: meta.numClasses, arrays };
}

export interface ReferenceComparison {
  arch: string;
  format: string;
  /** Per output (stem, stage1..stage4, logits): max |ours − PyTorch| and that over max |PyTorch|. */
  outputs: { name: string; maxAbs: number; maxRel: number }[];
  importSeconds: number;
  folded: number;
}

/**
 * Imports `<dir>/<arch>.<ext>` and compares every stage's features and the logits with PyTorch's on the case's input.
 */
export function compareWithReference(dir: string, arch: string, ext: 'safetensors' | 'onnx'): ReferenceComparison {
  const ref = readReferenceCase(dir, arch);
  const x = ref.arrays.input;
  const t0 = performance.now();
  const r = importTorchWeights({ from: path.join(dir, `${arch}.${ext}`), arch, inputShape: x.shape.slice(1) as [number, number, number], ...ref.options });
  const importSeconds = (performance.now() - t0) / 1000;
  const m = r.model;
  const stageOutputs = r.stageOutputs;
  const probe = tf.model({ inputs: m.inputs, outputs: [...stageOutputs, m.getLayer('head_fc').output as tf.SymbolicTensor] });
  const outs = probe.predict(x) as tf.Tensor[];
  const names = [...r.stages.map((s) => s.name), 'logits'];
  const outputs = names.map((name, i) => {
    const expected = ref.arrays[i < r.stages.length ? `feature${i}` : 'logits'];
    const maxAbs = tf.tidy(() => tf.max(tf.abs(tf.sub(outs[i], expected))).dataSync()[0]);
    const scale = tf.tidy(() => tf.max(tf.abs(expected)).dataSync()[0]);
    return { name, maxAbs, maxRel: maxAbs / Math.max(scale, 1e-12) };
  });
  tf.dispose([...outs, ...Object.values(ref.arrays)]);
  m.dispose();
  return { arch, format: r.report.format, outputs, importSeconds, folded: r.report.foldedBatchNorm.length };
}
