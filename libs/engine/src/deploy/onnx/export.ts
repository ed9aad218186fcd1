import * as tf from '@tensorflow/tfjs';
import { convertLayer, type Ctx, OnnxExportError, type Value } from './convert';
import { OnnxGraph } from './graph';

/** A layer's weights by the last part of their names (`kernel`, `bias`, `gamma`, `moving_mean`, ...). */
function weightsOf(layer: tf.layers.Layer): Map<string, tf.LayerVariable> {
  const map = new Map<string, tf.LayerVariable>();
  for (const w of layer.weights) map.set(w.originalName.split('/').pop()!, w);
  return map;
}

/**
 * Writes a tfjs LayersModel as an ONNX model (opset 13) that takes and returns the same NHWC tensors:
 * inputs are transposed to NCHW once, spatial operators run in NCHW, and values go back to NHWC only
 * where the layout shows (Flatten, Reshape, Dense, outputs). `metadata` (the suite's model metadata)
 * goes to `metadata_props` under the key `cv`.
 *
 * Throws OnnxExportError naming the first layer (and class) it cannot express.
 */
export function modelToOnnx(model: tf.LayersModel, metadata: Record<string, unknown> = {}): Uint8Array {
  const g = new OnnxGraph();
  const values = new Map<number, Value>();
  const toNchw = new Map<string, Value>();
  const toPlain = new Map<string, Value>();
  const nchw = (v: Value): Value => {
    if (v.layout === 'nchw') return v;
    if (v.rank !== 4 && v.rank !== 3)
      throw new OnnxExportError(`a spatial layer received a rank-${v.rank} value '${v.name}'; it needs [batch, (height,) width, channels]`);
    const perm = v.rank === 4 ? [0, 3, 1, 2] : [0, 2, 1];
    if (!toNchw.has(v.name)) toNchw.set(v.name, { name: g.node('Transpose', [v.name], g.fresh(`${v.name}_nchw`), { perm }), rank: v.rank, layout: 'nchw' });
    return toNchw.get(v.name)!;
  };
  const plain = (v: Value): Value => {
    if (v.layout === 'plain') return v;
    const perm = v.rank === 4 ? [0, 2, 3, 1] : [0, 2, 1];
    if (!toPlain.has(v.name)) toPlain.set(v.name, { name: g.node('Transpose', [v.name], g.fresh(`${v.name}_nhwc`), { perm }), rank: v.rank, layout: 'plain' });
    return toPlain.get(v.name)!;
  };

  model.inputs.forEach((input) => {
    const name = input.sourceLayer.name;
    g.edge('input', name, input.shape);
    values.set(input.id, { name, rank: input.shape.length, layout: 'plain' });
  });
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const where = `layer '${layer.name}' (${layer.getClassName()})`;
    if (layer instanceof tf.LayersModel)
      throw new OnnxExportError(`${where} is a nested model; export a flat model (rebuild it with the sub-model's layers inline)`);
    const nodes = layer.inboundNodes.filter((n) => n.inputTensors.every((t) => values.has(t.id)));
    if (nodes.length !== 1)
      throw new OnnxExportError(`${where} is applied ${layer.inboundNodes.length} times (a shared layer); the ONNX writer needs each layer applied once`);
    const [node] = nodes;
    const inputs = node.inputTensors.map((t) => values.get(t.id)!);
    if (node.outputTensors.length !== 1)
      throw new OnnxExportError(`${where} has ${node.outputTensors.length} outputs; the ONNX writer handles single-output layers`);
    const weights = weightsOf(layer);
    const ctx: Ctx = {
      g,
      layer,
      config: layer.getConfig() as Record<string, unknown>,
      weight: (suffix) => (weights.has(suffix) ? (weights.get(suffix)!.read().dataSync() as Float32Array).slice() : null),
      weightShape: (suffix) => {
        if (!weights.has(suffix)) throw new OnnxExportError(`${where} has no weight '${suffix}'`);
        return weights.get(suffix)!.shape as number[];
      },
      nchw,
      plain,
      out: g.fresh(layer.name),
    };
    values.set(node.outputTensors[0].id, convertLayer(ctx, inputs));
  }
  model.outputs.forEach((output, i) => {
    const v = plain(values.get(output.id)!);
    const name = model.outputNames[i] ?? `output_${i}`;
    g.node('Identity', [v.name], name);
    g.edge('output', name, output.shape);
  });
  return g.encode(model.name, { cv: JSON.stringify(metadata) });
}
