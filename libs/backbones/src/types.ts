import type * as tf from '@tensorflow/tfjs';

/** One feature map a backbone can return (timm's feature_info). */
export interface FeatureInfo {
  /** Channels of the map. */
  channels: number;
  /** Input size / map size (stride from the input). */
  reduction: number;
  /** Stage name: 'stem', 'stage1', ... (also the prefix of the stage's layer names). */
  name: string;
  /**
   * Layer-name prefixes of the stage, for freezing (default: `<name>_`). The reference architectures keep
   * PyTorch's module names ('layer1_0_conv1', 'features_3_block_1_0'), so their stages list them.
   */
  layers?: string[];
}

/** Where BatchNorm sits in a conv unit: conv→BN→act (default), conv→act→BN, or no BN. */
export type BnPlacement = 'before-act' | 'after-act' | 'none';

/**
 * Initial conv / depthwise kernels of the suite's conv units: He normal (σ = √(2 / fan_in), the default), or
 * PyTorch's default for convolutions, uniform in ±1/√fan_in (σ 2.4× smaller). Before BatchNorm the scale does
 * not change what the layer computes, but Adam's steps are a fixed size, so smaller kernels move faster
 * relative to their size: the detector learns faster from `fan-in-uniform` (docs/results/tta.md).
 */
export type ConvInit = 'he-normal' | 'fan-in-uniform';

export interface BuildContext {
  /** Returns a fresh seed for each weight initialiser (seeded init). */
  seed: () => number;
  bn: BnPlacement;
  /** Initial conv kernels (default He normal). */
  init?: ConvInit;
  /** Reference architectures: where each parametric layer records its PyTorch module path (weight import). */
  torch?: TorchLayer[];
  /** Reference architectures: BatchNorm epsilon and momentum as PyTorch gives them. */
  bnEps?: number;
  bnMomentum?: number;
  /** Channel and depth multipliers (torchvision's width_mult / depth_mult; 1 = the published model). */
  widthMult?: number;
  depthMult?: number;
}

/** How the published weights of a reference architecture expect their input (torchvision's eval transform). */
export interface ReferencePreprocess {
  /** Shorter side resized to this, then a centre crop of `crop`². */
  resize: number;
  crop: number;
  interpolation: 'bilinear' | 'bicubic';
  /** Applied inside the model (its `Normalize` layer) to 0..1 pixels. */
  mean: [number, number, number];
  std: [number, number, number];
}

/** What a builder produces: every stage's output with its declared geometry. */
export interface BackboneGraph {
  input: tf.SymbolicTensor;
  stages: (FeatureInfo & { output: tf.SymbolicTensor })[];
}

export interface BackboneDefinition {
  /** One-line description for `listBackbones`. */
  description: string;
  build(input: tf.SymbolicTensor, ctx: BuildContext): BackboneGraph;
  /**
   * Reference architectures: the published classifier head on the last stage's map (logits; its last Linear is
   * the tfjs layer 'head_fc'), the input it expects, and the BatchNorm epsilon / momentum of the reference.
   */
  reference?: {
    head(x: tf.SymbolicTensor, numClasses: number, ctx: BuildContext): tf.SymbolicTensor;
    preprocess: ReferencePreprocess;
    /** Classes of the published head (ImageNet-1k: 1000). */
    numClasses: number;
    /** Where the published weights come from, for model cards. */
    source: string;
  };
}

/** What a PyTorch parameter tensor is in the tfjs model. */
export type TorchKind = 'conv' | 'dwconv' | 'bn' | 'linear';

/** One parametric PyTorch module and the tfjs layer that holds its tensors. */
export interface TorchLayer {
  /** tfjs layer name. */
  layer: string;
  /** PyTorch module path, e.g. 'layer1.0.conv1' (its tensors are `<module>.weight`, `.bias`, `.running_mean`...). */
  module: string;
  kind: TorchKind;
  /** Whether the layer has a bias (conv / linear). */
  bias: boolean;
}
