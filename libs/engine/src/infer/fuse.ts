import * as tf from '@tensorflow/tfjs';
import { markInferenceFilter, releaseInferenceFilter, resolvePrecision, type Precision } from '../kernels/precision';

/**
 * Inference graphs: a trained model's Conv2D → BatchNormalization (→ activation) chains become one convolution
 * with the normalisation folded into its filter and bias, w' = w·γ/√(σ² + ε), b' = (b − μ)·γ/√(σ² + ε) + β,
 * and the activation fused into the kernel, so a conv unit costs one kernel and one pass over memory instead
 * of three. Browser-safe (plain tfjs); the fused SiLU (swish) only where the engine's native kernels run.
 */

type ST = tf.SymbolicTensor;

let bnClass: Function | null = null;
/** BatchNormalization or a subclass (the backbones' FreezableBatchNorm): the same inference. */
function isBatchNorm(l: tf.layers.Layer): boolean {
  bnClass ??= tf.layers.batchNormalization({}).constructor;
  const name = l.getClassName();
  return name === 'BatchNormalization' || l instanceof (bnClass as new () => tf.layers.Layer);
}

/** Activations tfjs's fused kernels take on every backend. */
const FUSABLE = new Set(['relu', 'relu6', 'elu', 'sigmoid']);
/** Activations fused only when the backend's FusedConv2D is the engine's native one (see `ACTIVATIONS`). */
let nativeActivations = new Set<string>();

/** Called by the native kernels' registration: the activations their FusedConv2D fuses beyond tfjs's. */
export function setNativeFusedActivations(names: string[]): void {
  nativeActivations = new Set(names);
}

/** A folded convolution's filter, bias, fused activation and geometry (`foldedParts`). */
export interface FoldedParts {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
  activation: string;
  strides: [number, number];
  padding: 'same' | 'valid';
  dilationRate: [number, number] | number;
}

/** A convolution with its BatchNorm folded in and its activation fused: inference only, never saved. */
class FoldedConv2D extends tf.layers.Layer {
  static readonly className = 'CvFoldedConv2D';
  constructor(
    private readonly conv: tf.layers.Layer,
    private readonly filter: tf.Tensor4D,
    private readonly bias: tf.Tensor1D,
    private readonly activation: string,
    name: string,
    precision: 'f32' | 'bf16',
  ) {
    super({ name, trainable: false });
    // A constant filter: the native kernels convert it into their layout (and bf16) once, not per call.
    markInferenceFilter(filter, precision);
  }

  computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return this.conv.computeOutputShape(inputShape);
  }

  /** What a graph compiler needs: the folded filter (HWIO) and bias, the fused activation, the convolution's geometry. */
  parts(): FoldedParts {
    const cfg = this.conv.getConfig() as { strides: [number, number]; padding: 'same' | 'valid'; dilationRate: [number, number] | number };
    return { filter: this.filter, bias: this.bias, activation: this.activation, strides: cfg.strides, padding: cfg.padding, dilationRate: cfg.dilationRate };
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    const cfg = this.conv.getConfig() as { strides: [number, number]; padding: 'same' | 'valid'; dilationRate: [number, number] | number };
    const native = nativeActivations.has(this.activation) && tf.getBackend() === 'wasm';
    const activation = this.activation === 'swish' && !native ? 'linear' : this.activation;
    const y = tf.fused.conv2d({
      x,
      filter: this.filter,
      bias: this.bias,
      strides: cfg.strides,
      pad: cfg.padding,
      dilations: cfg.dilationRate,
      activation: activation as tf.fused.Activation,
    });
    if (activation === this.activation) return y;
    // swish where the kernel does not fuse it; the linear output is freed here, not left to the caller's tidy.
    const out = tf.tidy(() => tf.mul(y, tf.sigmoid(y)));
    y.dispose();
    return out;
  }

  dispose(): tf.serialization.ConfigDictValue & { refCountAfterDispose: number; numDisposedVariables: number } {
    releaseInferenceFilter(this.filter);
    tf.dispose([this.filter, this.bias]);
    return super.dispose() as never;
  }
}

/** The parts of an inference graph's folded convolution (a layer `fuseForInference` made), or null for any other layer. */
export function foldedParts(layer: tf.layers.Layer): FoldedParts | null {
  return layer instanceof FoldedConv2D ? layer.parts() : null;
}

interface LayerNode {
  inboundLayers: tf.layers.Layer[];
  inputTensors: ST[];
  outputTensors: ST[];
}
const nodesOf = (l: tf.layers.Layer) => (l as unknown as { inboundNodes: LayerNode[] }).inboundNodes;

function activationOf(l: tf.layers.Layer): string | null {
  const cls = l.getClassName();
  const cfg = l.getConfig() as { activation?: string };
  if (cls === 'Activation') return cfg.activation ?? null;
  if (cls === 'ReLU') return (cfg as { maxValue?: number | null }).maxValue == null ? 'relu' : null;
  return null;
}

/** The folded filter and bias of a conv followed by a BatchNormalization over the last axis; null where it does not apply. */
function fold(conv: tf.layers.Layer, bn: tf.layers.Layer): [tf.Tensor4D, tf.Tensor1D] | null {
  const c = conv.getConfig() as { activation?: string; dataFormat?: string; useBias?: boolean; groups?: number };
  const b = bn.getConfig() as { axis?: number; epsilon: number; center: boolean; scale: boolean };
  if ((c.activation ?? 'linear') !== 'linear' || c.dataFormat === 'channelsFirst' || (c.groups ?? 1) !== 1) return null;
  if (b.axis !== -1 && b.axis !== 3) return null;
  return tf.tidy(() => {
    const cw = conv.getWeights();
    const kernel = cw[0] as tf.Tensor4D;
    const cout = kernel.shape[3];
    const convBias = c.useBias && cw[1] ? cw[1] : tf.zeros([cout]);
    const bw = bn.getWeights();
    let i = 0;
    const gamma = b.scale ? bw[i++] : tf.ones([cout]);
    const beta = b.center ? bw[i++] : tf.zeros([cout]);
    const [mean, variance] = [bw[i], bw[i + 1]];
    const k = tf.div(gamma, tf.sqrt(tf.add(variance, b.epsilon)));
    const filter = tf.keep(tf.mul(kernel, k) as tf.Tensor4D);
    const bias = tf.keep(tf.add(tf.mul(tf.sub(convBias, mean), k), beta) as tf.Tensor1D);
    return [filter, bias] as [tf.Tensor4D, tf.Tensor1D];
  });
}

/**
 * The model as an inference graph: every Conv2D whose only consumer is a BatchNormalization is folded with it,
 * and a following activation (ReLU, ReLU6, ELU, sigmoid; SiLU with the native kernels) whose only input is that
 * BatchNorm is fused too. Other layers are shared with `model` (no weights copied). Outputs equal the model's
 * within float rounding. A model that shares layers between nodes is returned as it is.
 *
 * @example
 * const fast = fuseForInference(await loadModel('models/detect/shapes'));
 * const faster = fuseForInference(model, { precision: 'bf16' }); // AMX / AVX512-BF16 cores, native kernels
 *
 * `precision` (default `f32`) is the folded convolutions' (see `Precision`); the fused model's `precision`
 * property says which was used.
 */
export function fuseForInference(model: tf.LayersModel, options: { precision?: Precision } = {}): tf.LayersModel & { precision?: 'f32' | 'bf16' } {
  const precision = resolvePrecision(options.precision ?? 'f32', tf.getBackend());
  const layers = model.layers;
  if (layers.some((l) => nodesOf(l).length !== 1)) return model;
  const consumers = new Map<tf.layers.Layer, number>();
  for (const l of layers) for (const p of nodesOf(l)[0].inboundLayers) consumers.set(p, (consumers.get(p) ?? 0) + 1);
  for (const o of model.outputs) consumers.set(o.sourceLayer, (consumers.get(o.sourceLayer) ?? 0) + 1);
  const only = (p: tf.layers.Layer, c: tf.layers.Layer) =>
    consumers.get(p) === 1 && nodesOf(c)[0].inboundLayers.length === 1 && nodesOf(c)[0].inboundLayers[0] === p;
  const next = new Map<tf.layers.Layer, tf.layers.Layer>(); // producer → its single consumer
  for (const l of layers) {
    const ins = nodesOf(l)[0].inboundLayers;
    if (ins.length === 1 && consumers.get(ins[0]) === 1) next.set(ins[0], l);
  }
  const mapped = new Map<ST, ST>();
  for (const x of model.inputs) mapped.set(x, x);
  const skip = new Set<tf.layers.Layer>();
  let folded = 0;
  for (const l of layers) {
    if (l.getClassName() === 'InputLayer' || skip.has(l)) continue;
    const node = nodesOf(l)[0];
    const inputs = node.inputTensors.map((t) => mapped.get(t)!);
    const bn = next.get(l);
    const weights = l.getClassName() === 'Conv2D' && bn && isBatchNorm(bn) && only(l, bn) ? fold(l, bn) : null;
    if (weights && bn) {
      const act = next.get(bn);
      const name = act ? activationOf(act) : null;
      const fuse = act && name && only(bn, act) && (FUSABLE.has(name) || name === 'swish') ? act : null;
      const y = new FoldedConv2D(l, weights[0], weights[1], fuse ? name! : 'linear', `${l.name}_folded`, precision).apply(inputs[0]) as ST;
      mapped.set(nodesOf(bn)[0].outputTensors[0], y);
      skip.add(bn);
      if (fuse) {
        mapped.set(nodesOf(fuse)[0].outputTensors[0], y);
        skip.add(fuse);
      }
      folded++;
      continue;
    }
    const out = l.apply(inputs.length === 1 ? inputs[0] : inputs) as ST | ST[];
    (Array.isArray(out) ? out : [out]).forEach((t, i) => mapped.set(node.outputTensors[i], t));
  }
  if (!folded) return model;
  const fused: tf.LayersModel & { precision?: 'f32' | 'bf16' } = tf.model({
    inputs: model.inputs,
    outputs: model.outputs.map((o) => mapped.get(o)!),
    name: `${model.name}_inference`,
  });
  fused.precision = precision;
  const meta = model.getUserDefinedMetadata();
  if (meta) fused.setUserDefinedMetadata(meta);
  // The folded layers' originals live only in `model`: disposing the inference graph disposes it too.
  const dispose = fused.dispose.bind(fused);
  fused.dispose = () => {
    const r = dispose();
    model.dispose();
    return r;
  };
  return fused;
}
