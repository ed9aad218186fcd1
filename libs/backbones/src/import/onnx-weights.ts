import onnxProto from 'onnx-proto';
import { half, type NamedTensor, WeightsFileError } from './safetensors';

const { onnx } = onnxProto;

/** A parametric operator of an ONNX graph, in graph order, with its constant tensors in PyTorch's layouts. */
export interface OnnxParamOp {
  op: 'Conv' | 'BatchNormalization' | 'Linear';
  /** Node name (the exporter's module path, e.g. '/layer1/layer1.0/conv1/Conv'). */
  node: string;
  /** Conv: weight [O, I/g, kh, kw], bias?; BatchNormalization: scale, bias, mean, var; Linear: weight [out, in], bias?. */
  tensors: Record<string, NamedTensor | undefined>;
  group?: number;
  epsilon?: number;
}

export interface OnnxWeights {
  /** Every initializer (and Constant node output) by name. */
  named: Map<string, NamedTensor>;
  /** Conv / BatchNormalization / Gemm (or MatMul + Add) nodes with constant weights, in graph order. */
  ops: OnnxParamOp[];
  /** `metadata_props` of the model (Ultralytics puts class names there). */
  metadata: Record<string, string>;
}

const FLOAT = 1;
const DOUBLE = 11;
const FLOAT16 = 10;

function tensorOf(t: onnxProto.onnx.ITensorProto, where: string): NamedTensor {
  const shape = (t.dims ?? []).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  if (Number(t.dataLocation ?? 0) === 1)
    throw new WeightsFileError(`${where}: tensor '${t.name}' is stored in an external file; re-export with the weights inside the .onnx`);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  let data: Float32Array;
  const type = Number(t.dataType);
  if (type === FLOAT) {
    if (raw) {
      if (raw.byteLength !== 4 * count)
        throw new WeightsFileError(`${where}: tensor '${t.name}' holds ${raw.byteLength} bytes for shape [${shape}] (truncated?)`);
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(4 * i, true);
    } else data = Float32Array.from(t.floatData ?? []);
  } else if (type === DOUBLE) {
    if (raw) {
      const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(8 * i, true);
    } else data = Float32Array.from(t.doubleData ?? []);
  } else if (type === FLOAT16 && raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = half(view.getUint16(2 * i, true));
  } else {
    return { shape, data: new Float32Array(0) }; // integer tensors (shapes, indices): not weights
  }
  if (data.length !== count) throw new WeightsFileError(`${where}: tensor '${t.name}' holds ${data.length} values for shape [${shape}] (truncated?)`);
  return { shape, data };
}

function transpose2d({ shape: [r, c], data }: NamedTensor): NamedTensor {
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = data[i * c + j];
  return { shape: [c, r], data: out };
}

/**
 * The weights of an ONNX model: initializers by name, and the parametric operators in graph order (how an
 * export whose BatchNorm was folded into the convolutions and whose tensors lost their names is matched).
 */
export function readOnnxWeights(bytes: Uint8Array, where: string): OnnxWeights {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new WeightsFileError(`${where}: not a readable ONNX file (${(e as Error).message}); download it again or export it anew`);
  }
  const graph = model.graph;
  if (!graph || !(graph.node?.length || graph.initializer?.length))
    throw new WeightsFileError(`${where}: not a readable ONNX file (no graph); download it again or export it anew`);
  const named = new Map<string, NamedTensor>();
  for (const t of graph.initializer ?? []) named.set(t.name ?? '', tensorOf(t, where));
  for (const n of graph.node ?? []) {
    const value = n.opType === 'Constant' ? n.attribute?.find((a) => a.name === 'value')?.t : undefined;
    if (value && n.output?.[0]) named.set(n.output[0], tensorOf({ ...value, name: n.output[0] }, where));
  }
  const attr = (n: onnxProto.onnx.INodeProto, name: string) => n.attribute?.find((a) => a.name === name);
  const weight = (name: string | undefined) => (name ? named.get(name) : undefined);
  const ops: OnnxParamOp[] = [];
  const nodes = graph.node ?? [];
  nodes.forEach((n, i) => {
    const inputs = n.input ?? [];
    const node = n.name || `${n.opType} #${i}`;
    if (n.opType === 'Conv' && weight(inputs[1])) {
      ops.push({ op: 'Conv', node, tensors: { weight: weight(inputs[1]), bias: weight(inputs[2]) }, group: Number(attr(n, 'group')?.i ?? 1) });
    } else if (n.opType === 'BatchNormalization' && weight(inputs[1])) {
      const [scale, bias, mean, variance] = inputs.slice(1, 5).map(weight);
      ops.push({ op: 'BatchNormalization', node, tensors: { scale, bias, mean, var: variance }, epsilon: attr(n, 'epsilon')?.f ?? 1e-5 });
    } else if (n.opType === 'Gemm' && weight(inputs[1])) {
      const w = weight(inputs[1])!;
      const transB = Number(attr(n, 'transB')?.i ?? 0);
      ops.push({ op: 'Linear', node, tensors: { weight: transB ? w : transpose2d(w), bias: weight(inputs[2]) } });
    } else if (n.opType === 'MatMul' && weight(inputs[1])?.shape.length === 2) {
      const next = nodes[i + 1];
      const bias = next?.opType === 'Add' && next.input?.includes(n.output?.[0] ?? '') ? weight(next.input.find((x) => x !== n.output?.[0])) : undefined;
      ops.push({ op: 'Linear', node, tensors: { weight: transpose2d(weight(inputs[1])!), bias } });
    }
  });
  const metadata = Object.fromEntries((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  return { named, ops, metadata };
}
