import * as tf from '@tensorflow/tfjs';
import type { TorchLayer } from '../reference/torch';
import { WeightsMismatchError } from '../weights';
import type { OnnxParamOp } from './onnx-weights';
import type { NamedTensor } from './safetensors';

/** What an import matched, in PyTorch's names. */
export interface ImportReport {
  source: string;
  format: 'safetensors' | 'onnx' | 'onnx (graph order)';
  arch: string;
  /** Tensors copied into the model. */
  matched: string[];
  /** Tensors the architecture has and the file lacks. */
  missing: string[];
  /** Tensors of the file the architecture does not have (num_batches_tracked is ignored). */
  unexpected: string[];
  /** Tensors present on both sides with different shapes. */
  mismatched: { tensor: string; file: number[]; model: number[] }[];
  /** BatchNorm layers whose statistics the file had folded into the preceding convolution (ONNX exports do). */
  foldedBatchNorm: string[];
}

/** PyTorch's shape of a tfjs weight (HWIO kernels → OIHW, depthwise → [C, 1, kh, kw], dense [in, out] → [out, in]). */
function torchShape(kind: TorchLayer['kind'], w: tf.Tensor): number[] {
  const s = w.shape;
  if (s.length === 4 && kind === 'conv') return [s[3], s[2], s[0], s[1]];
  if (s.length === 4 && kind === 'dwconv') return [s[2] * s[3], 1, s[0], s[1]];
  if (s.length === 2) return [s[1], s[0]];
  return [...s];
}

/** A PyTorch tensor in tfjs's layout for `kind` (kernel) or as is (vectors). */
function toTfjs(kind: TorchLayer['kind'], t: NamedTensor, shape: number[]): tf.Tensor {
  const { data } = t;
  if (shape.length === 4 && kind === 'conv') {
    const [kh, kw, ci, co] = shape;
    const out = new Float32Array(data.length);
    for (let o = 0; o < co; o++)
      for (let i = 0; i < ci; i++)
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * co + o] = data[((o * ci + i) * kh + y) * kw + x];
    return tf.tensor(out, shape);
  }
  if (shape.length === 4 && kind === 'dwconv') {
    const [kh, kw, c] = shape;
    const out = new Float32Array(data.length);
    for (let ch = 0; ch < c; ch++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[(y * kw + x) * c + ch] = data[(ch * kh + y) * kw + x];
    return tf.tensor(out, shape);
  }
  if (shape.length === 2) {
    const [fin, fout] = shape;
    const out = new Float32Array(data.length);
    for (let o = 0; o < fout; o++) for (let i = 0; i < fin; i++) out[i * fout + o] = data[o * fin + i];
    return tf.tensor(out, shape);
  }
  return tf.tensor(data, shape);
}

/** The PyTorch tensor names of a layer's weights, in the order of `layer.weights`. */
function tensorNames(tl: TorchLayer, layer: tf.layers.Layer): string[] {
  return layer.weights.map((w) => {
    const leaf = w.name.split('/').pop()!.replace(/_\d+$/, '');
    const suffix =
      {
        kernel: 'weight',
        depthwise_kernel: 'weight',
        bias: 'bias',
        gamma: 'weight',
        beta: 'bias',
        moving_mean: 'running_mean',
        moving_variance: 'running_var',
      }[leaf] ?? leaf;
    return `${tl.module}.${suffix}`;
  });
}

const same = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Copies PyTorch tensors into a reference architecture, by state-dict name. Returns the report; throws
 * WeightsMismatchError (one line: counts and the first differences) when any tensor of the model is missing
 * or has another shape — except a whole classifier head the file does not have (`allowMissing`).
 */
export function applyNamed(
  model: tf.LayersModel,
  torchLayers: TorchLayer[],
  tensors: Map<string, NamedTensor>,
  report: ImportReport,
  allowMissing: (module: string) => boolean = () => false,
): ImportReport {
  const used = new Set<string>();
  const assignments: [tf.layers.Layer, tf.Tensor[]][] = [];
  for (const tl of torchLayers) {
    const layer = model.getLayer(tl.layer);
    const names = tensorNames(tl, layer);
    const values: tf.Tensor[] = [];
    names.forEach((name, i) => {
      const t = tensors.get(name);
      const shape = torchShape(tl.kind, layer.weights[i].read());
      if (!t) {
        if (!allowMissing(tl.module)) report.missing.push(name);
        return;
      }
      used.add(name);
      if (!same(t.shape, shape)) report.mismatched.push({ tensor: name, file: t.shape, model: shape });
      else {
        values.push(toTfjs(tl.kind, t, layer.weights[i].shape as number[]));
        report.matched.push(name);
      }
    });
    if (values.length === names.length) assignments.push([layer, values]);
    else tf.dispose(values);
  }
  for (const name of tensors.keys()) if (!used.has(name) && !name.endsWith('num_batches_tracked')) report.unexpected.push(name);
  return commit(report, assignments);
}

/**
 * Copies the parametric operators of an ONNX graph into a reference architecture by position: the graph lists
 * Conv / BatchNormalization / Gemm in forward order, as the architecture records its layers. A Conv with a bias
 * where the architecture has conv → BatchNorm is an export with BatchNorm folded: the BatchNorm layer becomes the
 * identity plus that bias (γ = √(1 + ε), β = bias, mean 0, variance 1).
 */
export function applyOnnxOps(
  model: tf.LayersModel,
  torchLayers: TorchLayer[],
  ops: OnnxParamOp[],
  report: ImportReport,
  allowMissing: (module: string) => boolean = () => false,
): ImportReport {
  const assignments: [tf.layers.Layer, tf.Tensor[]][] = [];
  let j = 0;
  const describe = (op: OnnxParamOp | undefined) =>
    op ? `${op.op} '${op.node}' [${op.tensors.weight?.shape ?? op.tensors.scale?.shape}]` : 'the end of the graph';
  for (let i = 0; i < torchLayers.length; i++) {
    const tl = torchLayers[i];
    const layer = model.getLayer(tl.layer);
    const shapes = layer.weights.map((w) => w.shape as number[]);
    const op = ops[j];
    const want = tl.kind === 'bn' ? 'BatchNormalization' : tl.kind === 'linear' ? 'Linear' : 'Conv';
    if (!op || op.op !== want) {
      if (!op && allowMissing(tl.module)) continue;
      report.mismatched.push({ tensor: `${tl.module} (${want}) ↔ ${describe(op)}`, file: [], model: torchShape(tl.kind, layer.weights[0].read()) });
      break;
    }
    j++;
    if (want === 'BatchNormalization') {
      const { scale, bias, mean, var: variance } = op.tensors;
      assignments.push([layer, [scale!, bias!, mean!, variance!].map((t, k) => toTfjs('bn', t, shapes[k]))]);
      report.matched.push(...['weight', 'bias', 'running_mean', 'running_var'].map((s) => `${tl.module}.${s}`));
      continue;
    }
    const w = op.tensors.weight!;
    const expected = torchShape(tl.kind, layer.weights[0].read());
    if (!same(w.shape, expected)) {
      report.mismatched.push({ tensor: `${tl.module}.weight ↔ ${op.node}`, file: w.shape, model: expected });
      break;
    }
    const values = [toTfjs(tl.kind, w, shapes[0])];
    report.matched.push(`${tl.module}.weight`);
    const bias = op.tensors.bias;
    const nextIsBn = torchLayers[i + 1]?.kind === 'bn' && ops[j]?.op !== 'BatchNormalization';
    if (tl.bias) {
      values.push(bias ? toTfjs(tl.kind, bias, shapes[1]) : tf.zeros(shapes[1]));
      report.matched.push(`${tl.module}.bias`);
    }
    assignments.push([layer, values]);
    if (nextIsBn && !tl.bias) {
      // BatchNorm folded into this convolution by the exporter.
      const bnTl = torchLayers[++i];
      const bnLayer = model.getLayer(bnTl.layer);
      const c = bnLayer.weights[0].shape[0] as number;
      const eps = (bnLayer.getConfig().epsilon as number) ?? 1e-3;
      assignments.push([bnLayer, [tf.fill([c], Math.sqrt(1 + eps)), bias ? tf.tensor(bias.data, [c]) : tf.zeros([c]), tf.zeros([c]), tf.ones([c])]]);
      report.foldedBatchNorm.push(bnTl.module);
    }
  }
  for (const op of ops.slice(j)) report.unexpected.push(`${op.op} '${op.node}'`);
  return commit(report, assignments);
}

/** Sets the converted weights once the report is clean; otherwise frees them and refuses, the model untouched. */
function commit(report: ImportReport, assignments: [tf.layers.Layer, tf.Tensor[]][]): ImportReport {
  try {
    check(report);
  } catch (e) {
    for (const [, values] of assignments) tf.dispose(values);
    throw e;
  }
  for (const [layer, values] of assignments) {
    layer.setWeights(values);
    tf.dispose(values);
  }
  return report;
}

/** Refuses an import that would leave the model partly initialised. */
function check(r: ImportReport): void {
  if (!r.missing.length && !r.mismatched.length) return;
  const first = [
    ...r.mismatched.slice(0, 3).map((m) => `${m.tensor}: file [${m.file}] vs ${r.arch} [${m.model}]`),
    ...r.missing.slice(0, 3).map((m) => `${m} missing`),
  ];
  throw new WeightsMismatchError(
    `${r.source} does not fit ${r.arch}: ${r.matched.length} tensors match, ${r.missing.length} missing, ${r.mismatched.length} of another shape, ` +
      `${r.unexpected.length} unexpected (${first.join('; ')}); is it another architecture or width? pass the matching --arch`,
  );
}
