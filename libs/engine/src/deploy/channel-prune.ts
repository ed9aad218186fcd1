import * as tf from '@tensorflow/tfjs';
import { PLAIN_INFERENCE_CLASSES, toPlainTopology } from '../infer/layers';

const classOf = (layer: tf.layers.Layer) => PLAIN_INFERENCE_CLASSES[layer.getClassName()] ?? layer.getClassName();

/** Layers that act on each channel alone: a channel removed before them is removed after them. */
const PER_CHANNEL = new Set([
  'BatchNormalization',
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'MaxPooling2D',
  'AveragePooling2D',
  'UpSampling2D',
  'ZeroPadding2D',
  'Dropout',
  'SpatialDropout2D',
  'DropBlock2D',
  'GaussianNoise',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
]);
/** Layers whose input channels can be sliced (their kernels lose the matching rows). */
const CONSUMERS = new Set(['Conv2D', 'Conv2DTranspose', 'Dense']);
/** Layers whose output channels are pruned. */
const PRODUCERS = new Set(['Conv2D', 'Conv2DTranspose']);

export interface ChannelPruneResult {
  model: tf.LayersModel;
  /** Each pruned layer: channels before and after. */
  layers: { layer: string; from: number; to: number }[];
  /** Prunable-looking layers left whole, and why (a residual Add needs equal channels, ...). */
  skipped: { layer: string; reason: string }[];
}

/**
 * Structured channel pruning: removes the `fraction` of output channels of every Conv2D / Conv2DTranspose
 * whose channels can go (ranked by |γ| of the BatchNormalization right after it, else by the filter's L1
 * norm), with the matching rows of every consumer, and returns a genuinely smaller dense model. A layer
 * is left whole when its output reaches a residual Add / Multiply, a Reshape, a depthwise conv or a model
 * output, whose channel counts must stay as they are. Concatenate and Flatten are followed through.
 */
export async function channelPrune(model: tf.LayersModel, fraction: number): Promise<ChannelPruneResult> {
  const consumers = new Map<string, tf.layers.Layer[]>();
  for (const l of model.layers)
    for (const node of l.inboundNodes) for (const src of node.inboundLayers) consumers.set(src.name, [...(consumers.get(src.name) ?? []), l]);
  const outputs = new Set(model.outputs.map((o) => o.sourceLayer.name));
  const channels = (l: tf.layers.Layer) => (l.outputShape as number[]).at(-1)!;

  // Which producers may lose channels: every path from their output reaches consumers only.
  const skipped: ChannelPruneResult['skipped'] = [];
  const blocker = (name: string, seen = new Set<string>()): string | null => {
    if (outputs.has(name)) return `feeds the model output '${name}'`;
    for (const c of consumers.get(name) ?? []) {
      if (seen.has(c.name)) continue;
      seen.add(c.name);
      const cls = classOf(c);
      if (CONSUMERS.has(cls)) continue;
      if (PER_CHANNEL.has(cls) || cls === 'Concatenate' || cls === 'Flatten') {
        if (cls === 'Concatenate' && ![-1, 3].includes(c.getConfig().axis as number)) return `reaches '${c.name}' (Concatenate on another axis than channels)`;
        const why = blocker(c.name, seen);
        if (why) return why;
        continue;
      }
      return `reaches '${c.name}' (${c.getClassName()}), which needs its channel count`;
    }
    return null;
  };
  const keep = new Map<string, number[]>(); // per layer: the original output channels kept
  const changed: ChannelPruneResult['layers'] = [];
  for (const l of model.layers) {
    if (!PRODUCERS.has(classOf(l))) continue;
    const why = blocker(l.name);
    if (why) {
      skipped.push({ layer: l.name, reason: why });
      continue;
    }
    const c = channels(l);
    const n = Math.max(1, Math.round(c * (1 - fraction)));
    const next = consumers.get(l.name) ?? [];
    const bn = next.length === 1 && classOf(next[0]) === 'BatchNormalization' ? next[0] : null;
    let score: Float32Array;
    if (bn) score = tf.tidy(() => tf.abs(bn.weights.find((w) => /gamma$/.test(w.originalName))!.read()).dataSync() as Float32Array);
    else {
      const kernel = l.weights.find((w) => /kernel$/.test(w.originalName))!.read();
      const axes = classOf(l) === 'Conv2DTranspose' ? [0, 1, 3] : [0, 1, 2];
      score = tf.tidy(() => tf.sum(tf.abs(kernel), axes).dataSync() as Float32Array);
    }
    const order = Array.from(score, (s, i) => [s, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    keep.set(
      l.name,
      order
        .slice(0, n)
        .map(([, i]) => i)
        .sort((a, b) => a - b),
    );
    if (n < c) changed.push({ layer: l.name, from: c, to: n });
  }

  // The kept channels of every layer's output, in topological order.
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  const inKeep = (l: tf.layers.Layer, i = 0) => {
    const src = l.inboundNodes[0].inboundLayers[i];
    return keep.get(src.name) ?? all(channels(src));
  };
  for (const l of model.layers) {
    if (keep.has(l.name) || !l.inboundNodes[0]?.inboundLayers.length) continue;
    const cls = classOf(l);
    if (PER_CHANNEL.has(cls)) keep.set(l.name, inKeep(l));
    else if (cls === 'Concatenate') {
      let offset = 0;
      const kept: number[] = [];
      l.inboundNodes[0].inboundLayers.forEach((src, i) => {
        kept.push(...inKeep(l, i).map((k) => k + offset));
        offset += channels(src);
      });
      keep.set(l.name, kept);
    } else if (cls === 'Flatten') {
      const shape = l.inboundNodes[0].inboundLayers[0].outputShape as number[];
      const c = shape.at(-1)!;
      const positions = shape.slice(1, -1).reduce((a, b) => a * b, 1);
      const k = inKeep(l);
      keep.set(
        l.name,
        all(positions).flatMap((p) => k.map((ch) => p * c + ch)),
      );
    }
  }

  // The smaller topology and its sliced weights.
  const topology = JSON.parse(JSON.stringify(toPlainTopology(model.toJSON(null, false)))) as {
    config: { layers: { name: string; config: Record<string, unknown> }[] };
  };
  const configs = new Map((topology.config?.layers ?? []).map((l) => [(l as { name?: string }).name ?? (l.config.name as string), l.config])); // Sequential: the name is inside the config
  for (const { layer, to } of changed) configs.get(layer)!.filters = to;
  const pruned = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'] } as never);
  tf.tidy(() => {
    for (const l of model.layers) {
      const target = pruned.getLayer(l.name);
      const cls = classOf(l);
      const ins = l.inboundNodes[0]?.inboundLayers.length ? tf.tensor1d(inKeep(l), 'int32') : null;
      const outs = keep.has(l.name) && PRODUCERS.has(cls) ? tf.tensor1d(keep.get(l.name)!, 'int32') : null;
      const weights = l.weights.map((w) => {
        let v = w.read();
        const kind = w.originalName.split('/').pop()!;
        if (cls === 'Conv2D' && kind === 'kernel') {
          if (ins) v = tf.gather(v, ins, 2);
          if (outs) v = tf.gather(v, outs, 3);
        } else if (cls === 'Conv2DTranspose' && kind === 'kernel') {
          if (ins) v = tf.gather(v, ins, 3);
          if (outs) v = tf.gather(v, outs, 2);
        } else if (cls === 'Dense' && kind === 'kernel' && ins) v = tf.gather(v, ins, 0);
        else if (PRODUCERS.has(cls) && kind === 'bias' && outs) v = tf.gather(v, outs);
        else if (cls === 'BatchNormalization' && ins) v = tf.gather(v, ins);
        return v;
      });
      if (weights.length) target.setWeights(weights);
    }
  });
  pruned.setUserDefinedMetadata(model.getUserDefinedMetadata() ?? {});
  return { model: pruned, layers: changed, skipped };
}
