import * as tf from '@tensorflow/tfjs';
import { Rng, SeededDropout } from '@cv/engine';
import { backboneDefinition, createBackbone, createReferenceClassifier, listBackbones, type FeatureInfo } from '@cv/backbones';
import { DropBlock2D, SpatialDropout2D } from '@cv/regularization';

/** What every classification model builder receives. */
export interface ClassifierSpec {
  /** [H, W, C] of the input images. */
  inputShape: [number, number, number];
  /** Number of output classes. */
  numClasses: number;
  /** Seed of the weight initialisers. */
  seed: number;
  /** Dropout rate before the classifier head (models that have one). */
  dropout?: number;
  /** Spatial dropout rate on the last feature map (0 = none). */
  spatialDropout?: number;
  /** DropBlock rate and block size on the last feature map (0 = none). */
  dropBlock?: number;
  dropBlockSize?: number;
}

/** The optional feature-map regularizers of a spec, applied in order. */
function featureRegularizers(x: tf.SymbolicTensor, spec: ClassifierSpec): tf.SymbolicTensor {
  if (spec.spatialDropout) x = new SpatialDropout2D({ rate: spec.spatialDropout, name: 'reg_spatial_dropout' }).apply(x) as tf.SymbolicTensor;
  if (spec.dropBlock) x = new DropBlock2D({ rate: spec.dropBlock, blockSize: spec.dropBlockSize, name: 'reg_dropblock' }).apply(x) as tf.SymbolicTensor;
  return x;
}

type Builder = (spec: ClassifierSpec) => tf.LayersModel;

const glorot = (rng: Rng) => tf.initializers.glorotUniform({ seed: rng.seed() });

/** The seed's SimpleCNN: conv 32×3×3 → ReLU → flatten → dense softmax. */
function simpleCnn({ inputShape, numClasses, seed }: ClassifierSpec): tf.LayersModel {
  const rng = new Rng(seed);
  const input = tf.input({ shape: inputShape }); // [B, H, W, C]
  let x = tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(rng), name: 'conv1' }).apply(input) as tf.SymbolicTensor; // [B, H-2, W-2, 32]
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: glorot(rng), name: 'head' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'simple-cnn' });
}

/** The reference CNN: conv32-pool-conv64-pool-BN-dropout-dense128-dense(classes). */
function referenceCnn(spec: ClassifierSpec): tf.LayersModel {
  const { inputShape, numClasses, seed, dropout = 0.25 } = spec;
  const rng = new Rng(seed);
  const input = tf.input({ shape: inputShape }); // [B, 28, 28, C]
  const conv = (filters: number, name: string) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: glorot(rng), name });
  let x = conv(32, 'conv1').apply(input) as tf.SymbolicTensor; // [B, 28, 28, 32]
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }).apply(x) as tf.SymbolicTensor; // [B, 14, 14, 32]
  x = conv(64, 'conv2').apply(x) as tf.SymbolicTensor; // [B, 14, 14, 64]
  x = tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }).apply(x) as tf.SymbolicTensor; // [B, 7, 7, 64]
  // Momentum 0.9 = PyTorch's BatchNorm default (0.1): tfjs's 0.99 leaves short runs validating on unsettled statistics.
  x = tf.layers.batchNormalization({ momentum: 0.9, name: 'bn' }).apply(x) as tf.SymbolicTensor;
  x = featureRegularizers(x, spec);
  x = new SeededDropout({ rate: dropout, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor; // [B, 3136]
  x = tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: glorot(rng), name: 'fc1' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: glorot(rng), name: 'head' }).apply(x) as tf.SymbolicTensor; // [B, classes]
  return tf.model({ inputs: input, outputs: out, name: 'reference-cnn' });
}

const MODELS: Record<string, Builder> = {
  'simple-cnn': simpleCnn,
  'reference-cnn': referenceCnn,
};

/**
 * A registry backbone with a classification head: global average pool → dropout → dense softmax.
 * Head layers are named `head_*` (pretrained loading skips a head of another class count).
 */
export function backboneClassifier(
  name: string,
  spec: ClassifierSpec & { bn?: 'before-act' | 'after-act' | 'none'; widthMult?: number },
): { model: tf.LayersModel; stages: FeatureInfo[] } {
  if (backboneDefinition(name).reference) {
    // torchvision's own head (its last Linear is head_fc), so that imported classifiers and fine-tuned ones share names.
    const { model, stages } = createReferenceClassifier(name, { ...spec, transform: (x) => featureRegularizers(x, spec) });
    return { model, stages };
  }
  const { model: body, stages } = createBackbone(name, { inputShape: spec.inputShape, seed: spec.seed, bn: spec.bn });
  const rng = new Rng(spec.seed ^ 0x5eed);
  let x = featureRegularizers(body.outputs[0], spec);
  x = tf.layers.globalAveragePooling2d({ name: 'head_pool' }).apply(x) as tf.SymbolicTensor;
  if (spec.dropout) x = new SeededDropout({ rate: spec.dropout, name: 'head_dropout' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: spec.numClasses, activation: 'softmax', kernelInitializer: glorot(rng), name: 'head_fc' }).apply(x) as tf.SymbolicTensor;
  return { model: tf.model({ inputs: body.inputs, outputs: out, name }), stages };
}

/** Names accepted by `createClassifier`: the two classic CNNs and every registry backbone. */
export function listClassifiers(): string[] {
  return [...new Set([...Object.keys(MODELS), ...listBackbones()])];
}

/**
 * Builds a classification model by name.
 *
 * @example
 * const model = createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 0 });
 */
export function createClassifier(name: string, spec: ClassifierSpec): tf.LayersModel {
  const build = MODELS[name];
  if (build) return build(spec);
  if (listBackbones().includes(name)) return backboneClassifier(name, spec).model;
  throw new Error(`unknown model '${name}'; available: ${listClassifiers().join(', ')}`);
}
