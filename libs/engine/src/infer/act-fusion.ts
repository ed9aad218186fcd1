import * as tf from '@tensorflow/tfjs';
import { BatchNormalizationBase } from './layers';

/**
 * Batch norm + activation in one training pass: which BatchNormalization layers may apply their consumer's
 * activation themselves. A BatchNormalization whose only consumer is a relu / swish Activation layer (and whose
 * output is not a model output) applies that activation in its own native pass, forward and backward
 * (`CvBatchNormActTrain[Grad]`, infer/fused-layers.ts); the Activation layer then passes the tensor through. Saves a
 * pass over the activation each way, the normalised tensor kept for the gradient and two recorded ops per block.
 * Decided per model from its graph (`planActFusion`) when it is first called in training mode; inference, frozen
 * layers and other backends are unchanged.
 */

export type FusedAct = 'relu' | 'swish';

/** Batch-norm layers that apply their consumer's activation, and that consumer. */
const actFusedInto = new WeakMap<tf.layers.Layer, { act: FusedAct; consumer: tf.layers.Layer }>();
/** Tensors a fused batch norm already activated, and the Activation layer that is to pass each through. */
const activated = new WeakMap<tf.Tensor, tf.layers.Layer>();
const planned = new WeakSet<tf.LayersModel>();

interface GraphLayer {
  inboundNodes: unknown[];
  outboundNodes: { outboundLayer: tf.layers.Layer }[];
  activation?: { getClassName(): string };
}

/** Marks each BatchNormalization → relu/swish Activation pair of `model` (not nested models: they plan themselves). */
export function planActFusion(model: tf.LayersModel): number {
  if (planned.has(model)) return 0;
  planned.add(model);
  const outputs = new Set(model.outputLayers);
  let n = 0;
  for (const layer of model.layers) {
    const g = layer as unknown as GraphLayer;
    if (!(layer instanceof BatchNormalizationBase) || outputs.has(layer) || g.inboundNodes.length !== 1 || g.outboundNodes.length !== 1) continue;
    const consumer = g.outboundNodes[0].outboundLayer;
    const c = consumer as unknown as GraphLayer;
    const act = consumer.getClassName() === 'Activation' ? c.activation?.getClassName() : undefined;
    if ((act !== 'relu' && act !== 'swish') || c.inboundNodes.length !== 1) continue;
    actFusedInto.set(layer, { act, consumer });
    n++;
  }
  return n;
}

/** The activation a batch-norm layer may apply, and the Activation layer it comes from (undefined: none). */
export const actFusionOf = (layer: tf.layers.Layer) => actFusedInto.get(layer);

/** Records that `y` is already activated: `consumer` passes it through. */
export function markActivated(y: tf.Tensor, consumer: tf.layers.Layer): void {
  activated.set(y, consumer);
}

type ModelCall = (this: tf.LayersModel, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
type ActivationCall = (this: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
const modelProto = tf.LayersModel.prototype as unknown as { call: ModelCall };
const activationProto = Object.getPrototypeOf(tf.layers.activation({ activation: 'relu' })) as { call: ActivationCall };
const originalCalls = { model: modelProto.call, activation: activationProto.call };

const plannedModelCall: ModelCall = function (this: tf.LayersModel, inputs, kwargs) {
  if (kwargs?.training) planActFusion(this);
  return originalCalls.model.call(this, inputs, kwargs);
};

const passThroughActivation: ActivationCall = function (this: tf.layers.Layer, inputs, kwargs) {
  const x = Array.isArray(inputs) && inputs.length === 1 ? inputs[0] : inputs;
  if (!Array.isArray(x) && activated.get(x) === this) return x; // Layer.apply clones an output that is its input
  return originalCalls.activation.call(this, inputs, kwargs);
};

/** Wraps LayersModel.call (planning) and the Activation layer's call (pass-through); idempotent. */
export function installActFusion(): void {
  modelProto.call = plannedModelCall;
  activationProto.call = passThroughActivation;
}

/** Puts tfjs-layers' own calls back. */
export function uninstallActFusion(): void {
  modelProto.call = originalCalls.model;
  activationProto.call = originalCalls.activation;
}
