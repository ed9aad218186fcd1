import type * as tf from '@tensorflow/tfjs';

/** One feature map a backbone can return (timm's feature_info). */
export interface FeatureInfo {
  /** Channels of the map. */
  channels: number;
  /** Input size / map size (stride from the input). */
  reduction: number;
  /** Stage name: 'stem', 'stage1', ... (also the prefix of the stage's layer names). */
  name: string;
}

/** Where BatchNorm sits in a conv unit: conv→BN→act (default), conv→act→BN, or no BN. */
export type BnPlacement = 'before-act' | 'after-act' | 'none';

export interface BuildContext {
  /** Returns a fresh seed for each weight initialiser (seeded init). */
  seed: () => number;
  bn: BnPlacement;
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
}
