import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const A = onnx.AttributeProto.AttributeType;

/** ONNX opset the writer targets (Softmax over one axis, Resize with scales, Pad with a pads input). */
export const ONNX_OPSET = 13;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

/** An ONNX graph under construction: nodes in order, initializers, inputs and outputs (NHWC float32 at the edges). */
export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;

  /** A fresh tensor name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  /**
   * Adds a node; integers and integer lists become INT / INTS, `{ float }` / `{ floats }` force floats,
   * strings become STRING. Returns the first output's name.
   */
  node(opType: string, inputs: string[], outputs: string[] | string, attrs: Record<string, AttrValue> = {}): string {
    const outs = Array.isArray(outputs) ? outputs : [outputs];
    const attribute = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: A.STRING, s: new TextEncoder().encode(v) };
      if (typeof v === 'number') return Number.isInteger(v) ? { name, type: A.INT, i: v } : { name, type: A.FLOAT, f: v };
      if (Array.isArray(v)) return { name, type: A.INTS, ints: v };
      if ('float' in v) return { name, type: A.FLOAT, f: v.float };
      return { name, type: A.FLOATS, floats: v.floats };
    });
    this.nodes.push({ opType, input: inputs, output: outs, name: this.fresh(opType), attribute });
    return outs[0];
  }

  /** A float32 constant (weights) with the given dims. */
  float(name: string, data: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: bytes });
    return name;
  }

  /** An int64 constant (shapes, pads, axes). */
  int64(name: string, values: number[]): string {
    const data = new BigInt64Array(values.map((v) => BigInt(v)));
    this.initializers.push({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  /** A graph input or output: float32 with `null` dims named (`N` for the batch, `d<i>` for free sizes). */
  edge(kind: 'input' | 'output', name: string, shape: (number | null)[]): void {
    const dim = shape.map((d, i) => (d === null ? { dimParam: i === 0 ? 'N' : `${name}_d${i}` } : { dimValue: d }));
    const info = { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
    (kind === 'input' ? this.inputs : this.outputs).push(info);
  }

  /** The serialised ModelProto; `metadata` goes to `metadata_props` as string pairs. */
  encode(name: string, metadata: Record<string, string>): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'cv-suite',
      producerVersion: '0.1.0',
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: { name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
