import type * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { createReferenceClassifier } from '../reference/classifier';
import type { TorchLayer } from '../reference/torch';
import { backboneDefinition, createBackbone, listReferenceBackbones, UnknownBackboneError } from '../registry';
import type { ReferencePreprocess } from '../types';
import { applyNamed, applyOnnxOps, type ImportReport } from './apply';
import { readOnnxWeights } from './onnx-weights';
import { readSafetensors, WeightsFileError } from './safetensors';

export interface ImportOptions {
  /** A .safetensors or .onnx file, or a folder holding one (e.g. a Hugging Face download: model.safetensors). */
  from: string;
  /** Reference architecture: resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0. */
  arch: string;
  /** Square input of the built model (default: the reference's crop, 224). */
  imageSize?: number;
  /** Or any [H, W, 3] input. */
  inputShape?: [number, number, number];
  /** torchvision's width / depth multipliers of the file's model (1 = the published architecture). */
  widthMult?: number;
  depthMult?: number;
}

export interface ImportResult {
  model: tf.LayersModel;
  report: ImportReport;
  /** Whether the file carried the classifier head (the model is then a classifier: probabilities out). */
  head: boolean;
  numClasses: number;
  preprocess: ReferencePreprocess;
  /** Stage geometry of the backbone. */
  stages: { name: string; channels: number; reduction: number }[];
  /** Each stage's output tensor in `model` (classifiers; a backbone's model outputs its last stage). */
  stageOutputs: tf.SymbolicTensor[];
}

/** The weights file to read: the path itself, or the one .safetensors / .onnx file of a folder. */
export function resolveWeightsFile(from: string): string {
  if (!fs.existsSync(from)) throw new WeightsFileError(`'${from}' does not exist; pass a .safetensors or .onnx file (or a folder holding one)`);
  if (!fs.statSync(from).isDirectory()) return from;
  const files = fs.readdirSync(from).filter((f) => /\.(safetensors|onnx)$/i.test(f));
  const preferred = files.find((f) => f === 'model.safetensors') ?? (files.length === 1 ? files[0] : undefined);
  if (!preferred)
    throw new WeightsFileError(
      files.length
        ? `'${from}' holds several weight files (${files.join(', ')}); pass one of them`
        : `'${from}' holds no .safetensors or .onnx file; pass the weights file`,
    );
  return path.join(from, preferred);
}

/**
 * Reads torchvision weights (a state dict as safetensors, or an ONNX export) into a reference architecture:
 * names mapped, OIHW → HWIO, Linear transposed, BatchNorm statistics copied (or rebuilt from an export that folded
 * them). With the classifier head in the file the result is a classifier; without, the backbone.
 *
 * @example
 * const { model, report } = await importTorchWeights({ from: 'resnet18-f37072fd.safetensors', arch: 'resnet18' });
 */
export function importTorchWeights(options: ImportOptions): ImportResult {
  const { arch } = options;
  if (!listReferenceBackbones().includes(arch)) {
    if (!backboneDefinition(arch)) throw new UnknownBackboneError(arch);
    throw new Error(`--arch '${arch}' is one of the suite's own backbones; weights import into: ${listReferenceBackbones().join(', ')}`);
  }
  const file = resolveWeightsFile(options.from);
  const bytes = fs.readFileSync(file);
  const isOnnx = /\.onnx$/i.test(file) || (bytes.length > 8 && !/\.safetensors$/i.test(file) && bytes[0] === 0x08);
  const preprocess = backboneDefinition(arch).reference!.preprocess;
  const size = options.imageSize ?? preprocess.crop;
  const inputShape: [number, number, number] = options.inputShape ?? [size, size, 3];
  const variant = { widthMult: options.widthMult, depthMult: options.depthMult };

  // Which layers form the head (absent from a features-only file), from a probe build.
  const probe = createReferenceClassifier(arch, { inputShape: [64, 64, 3], numClasses: 1, ...variant });
  const body = createBackbone(arch, { inputShape: [64, 64, 3], ...variant });
  const bodyCount = body.torchLayers.length;
  body.model.dispose();
  const headLayers: TorchLayer[] = probe.torchLayers.slice(bodyCount);
  const headModules = new Set(headLayers.map((t) => t.module));
  const last = headLayers[headLayers.length - 1];
  probe.model.dispose();

  const report: ImportReport = { source: file, format: 'safetensors', arch, matched: [], missing: [], unexpected: [], mismatched: [], foldedBatchNorm: [] };
  let named: Map<string, ReturnType<typeof readSafetensors> extends Map<string, infer T> ? T : never> | undefined;
  let ops: ReturnType<typeof readOnnxWeights>['ops'] | undefined;
  let numClasses = 0;
  if (isOnnx) {
    const onnx = readOnnxWeights(bytes, file);
    const expected = probe.torchLayers.slice(0, bodyCount).map((t) => `${t.module}.weight`);
    const byName = expected.filter((n) => onnx.named.has(n)).length > expected.length / 2;
    if (byName) {
      report.format = 'onnx';
      named = onnx.named;
      numClasses = onnx.named.get(`${last.module}.weight`)?.shape[0] ?? 0;
    } else {
      report.format = 'onnx (graph order)';
      ops = onnx.ops;
      const linears = ops.filter((o) => o.op === 'Linear');
      const headLinears = headLayers.filter((t) => t.kind === 'linear').length;
      numClasses = linears.length >= headLinears && headLinears > 0 ? linears[linears.length - 1].tensors.weight!.shape[0] : 0;
    }
  } else {
    named = readSafetensors(bytes, file);
    numClasses = named.get(`${last.module}.weight`)?.shape[0] ?? 0;
  }
  const head = numClasses > 0;
  const built = head
    ? createReferenceClassifier(arch, { inputShape, numClasses, ...variant })
    : { ...createBackbone(arch, { inputShape, ...variant }), preprocess, stageOutputs: [] as tf.SymbolicTensor[] };
  const allowMissing = head ? () => false : (m: string) => headModules.has(m);
  try {
    if (named) applyNamed(built.model, built.torchLayers, named, report, allowMissing);
    else applyOnnxOps(built.model, built.torchLayers, ops!, report, allowMissing);
  } catch (e) {
    built.model.dispose();
    throw e;
  }
  return {
    model: built.model,
    report,
    head,
    numClasses,
    preprocess,
    stages: built.stages.map(({ name, channels, reduction }) => ({ name, channels, reduction })),
    stageOutputs: built.stageOutputs,
  };
}

/** Class names for an imported head: ImageNet-1k's for 1000 classes, else class_0... unless given. */
export function defaultClassNames(numClasses: number): string[] {
  if (numClasses !== 1000) return Array.from({ length: numClasses }, (_, i) => `class_${i}`);
  return JSON.parse(fs.readFileSync(new URL('../reference/imagenet-classes.json', import.meta.url), 'utf8')) as string[];
}
