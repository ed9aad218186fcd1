import * as tf from '@tensorflow/tfjs';
import { backboneDefinition, buildContext, type Backbone, type CreateBackboneOptions } from '../registry';
import type { ReferencePreprocess } from '../types';

export interface ReferenceClassifier extends Backbone {
  /** Logits before the softmax (for checks against PyTorch's output). */
  logits: tf.SymbolicTensor;
  preprocess: ReferencePreprocess;
  /** Each stage's output tensor (for feature checks and encoders). */
  stageOutputs: tf.SymbolicTensor[];
}

/**
 * A reference architecture with its published classifier head: input 0..1 RGB → class probabilities (the head's
 * last Linear is 'head_fc', then 'head_softmax'). `transform` runs on the last feature map before the head (the
 * classify task's feature regularizers).
 *
 * @example
 * const { model, torchLayers } = createReferenceClassifier('resnet18', { inputShape: [224, 224, 3], numClasses: 1000 });
 */
export function createReferenceClassifier(
  name: string,
  options: Omit<CreateBackboneOptions, 'featuresOnly' | 'outIndices'> & { numClasses: number; transform?: (x: tf.SymbolicTensor) => tf.SymbolicTensor },
): ReferenceClassifier {
  const def = backboneDefinition(name);
  if (!def.reference)
    throw new Error(
      `backbone '${name}' has no published classifier head; reference architectures: resnet18, resnet50, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large, efficientnet_b0`,
    );
  const input = tf.input({ shape: options.inputShape, name: 'input' });
  const ctx = buildContext(options);
  const graph = def.build(input, ctx);
  const last = graph.stages[graph.stages.length - 1].output;
  const logits = def.reference.head(options.transform ? options.transform(last) : last, options.numClasses, ctx);
  const probs = tf.layers.activation({ activation: 'softmax', name: 'head_softmax' }).apply(logits) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: probs, name });
  const stages = graph.stages.map(({ output: _o, ...info }) => info);
  return {
    model,
    featureInfo: stages,
    stages,
    torchLayers: ctx.torch!,
    logits,
    preprocess: def.reference.preprocess,
    stageOutputs: graph.stages.map((s) => s.output),
  };
}
