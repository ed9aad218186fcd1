import * as tf from '@tensorflow/tfjs';

/**
 * How a custom layer class is written with stock tfjs layers for export: given the layer and its (new) inputs,
 * apply stock layers and set their weights; return the output. The result must compute the same function — the
 * export checks it against the original on probe inputs.
 */
export type StockRewrite = (layer: tf.layers.Layer, inputs: tf.SymbolicTensor[]) => tf.SymbolicTensor;

const rewrites = new Map<string, StockRewrite>();

/**
 * Registers the stock-layer form of a task's custom layer class, so `<task>:export` writes a model that a stock
 * `tf.loadLayersModel` (and the ONNX writer) reads.
 *
 * @example
 * registerStockRewrite('CausalPadding1D', (layer, [x]) => tf.layers.zeroPadding2d({ ... }).apply(x) as tf.SymbolicTensor);
 */
export function registerStockRewrite(className: string, rewrite: StockRewrite): void {
  rewrites.set(className, rewrite);
}

/** Does the model hold a layer that has a stock-layer form? */
export const needsStockRewrite = (model: tf.LayersModel): boolean => model.layers.some((l) => rewrites.has(l.getClassName()));

/** A fresh layer of the same class and config (through tfjs's registry of serializable classes). */
function layerFromConfig(layer: tf.layers.Layer): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry) throw new Error(`layer class '${layer.getClassName()}' is not registered with tfjs; register it before export`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, layer.getConfig()) as tf.layers.Layer;
}

/**
 * The same model with every custom layer that has a registered rewrite replaced by stock layers (the other
 * layers are rebuilt from their configs with their weights). Layers are visited in the model's topological order;
 * each must be applied once (no shared layers).
 */
export function toStockModel(model: tf.LayersModel): tf.LayersModel {
  const values = new Map<number, tf.SymbolicTensor>();
  const inputs = model.inputs.map((input) => {
    const fresh = tf.input({ shape: input.shape.slice(1), name: input.sourceLayer.name, dtype: input.dtype });
    values.set(input.id, fresh);
    return fresh;
  });
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const nodes = layer.inboundNodes.filter((n) => n.inputTensors.every((t) => values.has(t.id)));
    if (nodes.length !== 1) throw new Error(`layer '${layer.name}' is applied ${nodes.length} times; the stock-layer rewrite needs each layer applied once`);
    const ins = nodes[0].inputTensors.map((t) => values.get(t.id)!);
    const rewrite = rewrites.get(layer.getClassName());
    let out: tf.SymbolicTensor;
    if (rewrite) out = rewrite(layer, ins);
    else {
      const copy = layerFromConfig(layer);
      out = copy.apply(ins.length === 1 ? ins[0] : ins) as tf.SymbolicTensor;
      copy.setWeights(layer.getWeights());
    }
    values.set(nodes[0].outputTensors[0].id, out);
  }
  const stock = tf.model({ inputs, outputs: model.outputs.map((o) => values.get(o.id)!), name: model.name });
  const meta = model.getUserDefinedMetadata();
  if (meta) stock.setUserDefinedMetadata(meta);
  return stock;
}
