import * as tf from '@tensorflow/tfjs';
import { Rng } from '@cv/engine';
import { DEFINITIONS } from './definitions';
import type { TorchLayer } from './reference/torch';
import type { BackboneDefinition, BnPlacement, BuildContext, ConvInit, FeatureInfo } from './types';

export interface CreateBackboneOptions {
  /** [H, W, C] with C = 1 or 3. */
  inputShape: [number, number, number];
  /** Return feature maps (true) or only the last stage's map (false, the input of a classifier head). */
  featuresOnly?: boolean;
  /** Which stages to return, as indices into the stage list (see `backboneStages`); default all. */
  outIndices?: number[];
  /** Seed of the weight initialisers. */
  seed?: number;
  /** BatchNorm placement in conv units (the suite's own backbones; reference architectures keep theirs). */
  bn?: BnPlacement;
  /** Initial kernels of the suite's conv units (default He normal; reference architectures keep theirs). */
  init?: ConvInit;
  /** Reference architectures: torchvision's width_mult / depth_mult (small variants for tests; 1 = published). */
  widthMult?: number;
  depthMult?: number;
}

export interface Backbone {
  /** Input → the selected feature maps (one output per `featureInfo` entry). */
  model: tf.LayersModel;
  featureInfo: FeatureInfo[];
  /** Every stage of this backbone, in order (freezing goes by these names). */
  stages: FeatureInfo[];
  /** Reference architectures: every parametric layer with its PyTorch module path, in forward order. */
  torchLayers: TorchLayer[];
}

/** Backbone names, for `--model` and error messages. */
export function listBackbones(): string[] {
  return Object.keys(DEFINITIONS);
}

/** A clear error for a name that is not registered. */
export class UnknownBackboneError extends Error {
  override name = 'UnknownBackboneError';
  constructor(name: string) {
    super(`unknown backbone '${name}'; available: ${listBackbones().join(', ')}`);
  }
}

/**
 * Builds a backbone by name (timm style) with its declared feature maps. Load pretrained weights with
 * `loadPretrained`.
 *
 * @example
 * const { model, featureInfo } = createBackbone('resnet-s', { inputShape: [64, 64, 3], featuresOnly: true, outIndices: [2, 3, 4] });
 * // featureInfo: [{channels: 64, reduction: 4, name: 'stage2'}, {channels: 128, reduction: 8, ...}, ...]
 */
export function createBackbone(name: string, options: CreateBackboneOptions): Backbone {
  const def = backboneDefinition(name);
  if ((options.widthMult ?? 1) !== 1 && !def.reference)
    throw new Error(`a width multiplier is for the torchvision layouts (${listReferenceBackbones().join(', ')}), not '${name}'`);
  const [, , c] = options.inputShape;
  if (c !== 1 && c !== 3) throw new Error(`backbone '${name}': input must have 1 or 3 channels, got ${c}`);
  const input = tf.input({ shape: options.inputShape, name: 'input' });
  const ctx = buildContext(options);
  const graph = def.build(input, ctx);
  const stages = graph.stages.map(({ output: _o, ...info }) => info);
  let indices = options.outIndices ?? (options.featuresOnly ? stages.map((_, i) => i) : [stages.length - 1]);
  indices = indices.map((i) => (i < 0 ? stages.length + i : i));
  const bad = indices.find((i) => !(i >= 0 && i < stages.length));
  if (bad !== undefined)
    throw new Error(`backbone '${name}' has stages 0..${stages.length - 1} (${stages.map((s) => s.name).join(', ')}); outIndices ${bad} is out of range`);
  const outputs = indices.map((i) => graph.stages[i].output);
  const model = tf.model({ inputs: input, outputs: outputs.length === 1 ? outputs[0] : outputs, name });
  return { model, featureInfo: indices.map((i) => stages[i]), stages, torchLayers: ctx.torch! };
}

/** A registered definition by name (UnknownBackboneError otherwise). */
export function backboneDefinition(name: string): BackboneDefinition {
  const def = DEFINITIONS[name];
  if (!def) throw new UnknownBackboneError(name);
  return def;
}

/** The build context of `createBackbone`'s options (seeded initialisers, a fresh PyTorch layer record). */
export function buildContext(options: Pick<CreateBackboneOptions, 'seed' | 'bn' | 'init' | 'widthMult' | 'depthMult'>): BuildContext {
  const rng = new Rng(options.seed ?? 0);
  return {
    seed: () => rng.seed(),
    bn: options.bn ?? 'before-act',
    init: options.init,
    torch: [],
    widthMult: options.widthMult,
    depthMult: options.depthMult,
  };
}

/** Names of the reference architectures (torchvision layouts whose published weights import). */
export function listReferenceBackbones(): string[] {
  return Object.keys(DEFINITIONS).filter((n) => DEFINITIONS[n].reference);
}
