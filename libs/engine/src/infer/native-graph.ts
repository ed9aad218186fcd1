import * as tf from '@tensorflow/tfjs';
import type { OneDnnAddon } from '../kernels/native/addon';
import { assertWasmInternals, offsetOf, type WasmBackend } from '../kernels/native/heap';
import { foldedParts } from './fuse';
import type { InferenceModel } from './predictor';

/**
 * An inference graph (`fuseForInference`'s output) compiled for the oneDNN addon's graph runner
 * (libs/engine/native/graph.cc): one native call per batch runs every layer, with the activations between layers
 * kept in native buffers — bf16 where the graph's precision is bf16, so no layer writes f32 only for the next one
 * to convert it back — and no per-layer JavaScript. Only the input is read from, and the outputs written to, the
 * wasm heap, in place.
 *
 * Layers it takes: folded convolutions, Conv2D, Conv2DTranspose, Add (two inputs), Concatenate, UpSampling2D
 * (nearest), MaxPooling2D, Reshape, Dropout, and activations fused into a convolution (linear, ReLU, ReLU6, ELU,
 * sigmoid, SiLU). A graph with any other layer (Dense, global pooling, depthwise convolutions…) is not compiled:
 * `compileNativeGraph` returns null and the layers run one by one as before.
 */

const enum Code {
  Conv = 1,
  Add = 2,
  Concat = 3,
  Upsample = 4,
  MaxPool = 5,
  Deconv = 6,
}

/** The addon's activation numbering (addon.hpp `Act`). */
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1, relu6: 2, elu: 3, sigmoid: 4, swish: 6 };

type ST = tf.SymbolicTensor;
interface LayerNode {
  inputTensors: ST[];
  outputTensors: ST[];
}
const nodeOf = (t: ST) => (t.sourceLayer as unknown as { inboundNodes: LayerNode[] }).inboundNodes[t.nodeIndex];

/** Per-image dimensions as (height, width, channels) of a tensor of rank 2–4 (batch first); null for other ranks. */
function dims(shape: (number | null)[]): [number, number, number] | null {
  const s = shape.slice(1);
  if (s.some((d) => d == null || d <= 0)) return null;
  if (s.length === 3) return s as [number, number, number];
  if (s.length === 2) return [s[0]!, 1, s[1]!];
  if (s.length === 1) return [1, 1, s[0]!];
  return null;
}

/** The oneDNN dimension (N C H W order) of a Concatenate axis of a rank-`rank` NHWC tensor. */
function concatAxis(axis: number, rank: number): number | null {
  const a = axis < 0 ? axis + rank : axis;
  if (rank === 4) return ({ 1: 2, 2: 3, 3: 1 } as Record<number, number>)[a] ?? null;
  if (rank === 3) return ({ 1: 2, 2: 1 } as Record<number, number>)[a] ?? null;
  if (rank === 2) return a === 1 ? 1 : null;
  return null;
}

class Unsupported extends Error {}

interface Value {
  h: number;
  w: number;
  c: number;
  f32: boolean;
  alias: number;
}

interface Compiled {
  spec: Int32Array;
  weights: Float32Array;
  outputShapes: number[][];
}

/**
 * Builds the runner's spec for input images of `size` (height, width): every value's dimensions are worked out
 * layer by layer (a fully convolutional model's symbolic shapes leave them open) and checked against the shapes
 * the model states. Throws `Unsupported` naming the first layer it cannot take.
 */
function buildSpec(model: tf.LayersModel, bf16: boolean, size: [number, number]): Compiled {
  if (model.inputs.length !== 1 || model.inputs[0].shape.length !== 4) throw new Unsupported('one image input');
  const values: Value[] = [];
  const ids = new Map<number, number>(); // symbolic tensor id → value
  const newValue = (t: ST, d: [number, number, number], alias = -1): number => {
    if (d.some((x) => !(Number.isInteger(x) && x > 0))) throw new Unsupported(`${t.sourceLayer.name}: dimensions ${d}`);
    // What the model states must agree: a rank-4 shape entry by entry where given, other ranks when fully given.
    const stated = t.shape.slice(1);
    const mismatch =
      stated.length === 3 ? stated.some((x, i) => x != null && x !== d[i]) : stated.every((x) => x != null) && dims(t.shape)!.some((x, i) => x !== d[i]);
    if (mismatch) throw new Unsupported(`${t.sourceLayer.name}: computed ${d}, stated ${JSON.stringify(t.shape)}`);
    values.push({ h: d[0], w: d[1], c: d[2], f32: !bf16, alias });
    ids.set(t.id, values.length - 1);
    return values.length - 1;
  };
  const inShape = model.inputs[0].shape;
  const input = newValue(model.inputs[0], [size[0], size[1], inShape[3] ?? 0]);
  values[input].f32 = true;

  // Layers in dependency order, from the outputs back (the fused graph's own nodes: shared layers have others).
  const order: ST[] = [];
  const seen = new Set<number>();
  const visit = (t: ST) => {
    if (seen.has(t.id) || t === model.inputs[0]) return;
    seen.add(t.id);
    const node = nodeOf(t);
    if (!node || node.outputTensors.length !== 1) throw new Unsupported(`layer ${t.sourceLayer.name}`);
    node.inputTensors.forEach(visit);
    order.push(t);
  };
  model.outputs.forEach(visit);

  const chunks: number[][] = [];
  const weightParts: Float32Array[] = [];
  let weightLength = 0;
  const addWeights = (data: Float32Array) => {
    weightParts.push(data);
    weightLength += data.length;
    return weightLength - data.length;
  };
  const links: number[][] = []; // value groups that must share a dtype (every op but a convolution)
  const valueOf = (t: ST) => {
    const v = ids.get(t.id);
    if (v === undefined) throw new Unsupported(`input of ${t.sourceLayer.name}`);
    return v;
  };

  for (const t of order) {
    const layer = t.sourceLayer as tf.layers.Layer;
    const cls = layer.getClassName();
    const ins = nodeOf(t).inputTensors.map(valueOf);
    const cfg = layer.getConfig() as Record<string, any>;
    if (cfg.dataFormat === 'channelsFirst') throw new Unsupported(`${layer.name}: channelsFirst`);
    const folded = foldedParts(layer);
    if (folded || cls === 'Conv2D' || cls === 'Conv2DTranspose') {
      const deconv = cls === 'Conv2DTranspose';
      const weights = folded ? null : layer.getWeights();
      const kernel = (folded ? folded.filter : weights![0]) as tf.Tensor4D;
      const bias = folded ? folded.bias : cfg.useBias ? (weights![1] as tf.Tensor1D) : null;
      const activation = folded ? folded.activation : (cfg.activation ?? 'linear');
      const act = ACTIVATIONS[activation];
      if (act === undefined) throw new Unsupported(`${layer.name}: activation ${activation}`);
      const strides = (folded ? folded.strides : cfg.strides) as [number, number];
      const padding = (folded ? folded.padding : cfg.padding) as 'same' | 'valid';
      const dil = folded ? folded.dilationRate : cfg.dilationRate;
      const dilation: [number, number] = typeof dil === 'number' ? [dil, dil] : (dil ?? [1, 1]);
      if ((cfg.groups ?? 1) !== 1 || (deconv && (dilation[0] !== 1 || dilation[1] !== 1))) throw new Unsupported(`${layer.name}: groups or dilation`);
      const [kh, kw] = kernel.shape;
      const x = values[ins[0]];
      // Padding as tfjs computes it: for a transposed convolution, that of the forward convolution it inverts
      // (Keras's output length: in × stride for 'same', (in − 1) × stride + kernel for 'valid').
      const oc = kernel.shape[deconv ? 2 : 3];
      const grow = (n: number, k: number, st: number) => (padding === 'same' ? n * st : (n - 1) * st + k);
      const info = deconv
        ? tf.backend_util.computeConv2DInfo([1, grow(x.h, kh, strides[0]), grow(x.w, kw, strides[1]), oc], kernel.shape, strides, 1, padding)
        : tf.backend_util.computeConv2DInfo([1, x.h, x.w, x.c], kernel.shape, strides, dilation, padding);
      if ((deconv ? info.outHeight !== x.h || info.outWidth !== x.w : false) || info.padInfo.type === 'EXPLICIT')
        throw new Unsupported(`${layer.name}: geometry`);
      const out = newValue(t, deconv ? [info.inHeight, info.inWidth, oc] : [info.outHeight, info.outWidth, oc]);
      // The runner reads filters as HWIO (dims out × in); a transposed convolution's kernel is [kh, kw, out, in].
      const hwio = deconv ? tf.tidy(() => tf.transpose(kernel, [0, 1, 3, 2])) : kernel;
      const wOff = addWeights(hwio.dataSync() as Float32Array);
      if (hwio !== kernel) hwio.dispose();
      const bOff = bias ? addWeights(bias.dataSync() as Float32Array) : -1;
      const p = info.padInfo;
      chunks.push([
        deconv ? Code.Deconv : Code.Conv,
        15,
        ins[0],
        out,
        kh,
        kw,
        strides[0],
        strides[1],
        dilation[0],
        dilation[1],
        p.top,
        p.left,
        p.bottom,
        p.right,
        act,
        wOff,
        bOff,
      ]);
    } else if (cls === 'Add') {
      const [a, b] = ins.map((v) => values[v]);
      if (ins.length !== 2 || a.h !== b.h || a.w !== b.w || a.c !== b.c) throw new Unsupported(`${layer.name}: Add of ${ins.length} inputs`);
      const out = newValue(t, [a.h, a.w, a.c]);
      chunks.push([Code.Add, 3, ins[0], ins[1], out]);
      links.push([...ins, out]);
    } else if (cls === 'Concatenate') {
      const axis = concatAxis(cfg.axis ?? -1, t.shape.length);
      if (axis === null) throw new Unsupported(`${layer.name}: axis ${cfg.axis}`);
      const key = ({ 1: 'c', 2: 'h', 3: 'w' } as const)[axis as 1 | 2 | 3];
      const parts = ins.map((v) => values[v]);
      const d = { h: parts[0].h, w: parts[0].w, c: parts[0].c };
      d[key] = parts.reduce((sum, v) => sum + v[key], 0);
      if (parts.some((v) => (['h', 'w', 'c'] as const).some((k) => k !== key && v[k] !== d[k]))) throw new Unsupported(`${layer.name}: shapes`);
      const out = newValue(t, [d.h, d.w, d.c]);
      chunks.push([Code.Concat, 3 + ins.length, axis, out, ins.length, ...ins]);
      links.push([...ins, out]);
    } else if (cls === 'UpSampling2D') {
      const size = cfg.size as [number, number];
      if ((cfg.interpolation ?? 'nearest') !== 'nearest') throw new Unsupported(`${layer.name}: ${cfg.interpolation}`);
      const x = values[ins[0]];
      const out = newValue(t, [x.h * size[0], x.w * size[1], x.c]);
      chunks.push([Code.Upsample, 4, ins[0], out, size[0], size[1]]);
      links.push([ins[0], out]);
    } else if (cls === 'MaxPooling2D') {
      const x = values[ins[0]];
      const pool = cfg.poolSize as [number, number];
      const strides = (cfg.strides ?? pool) as [number, number];
      const info = tf.backend_util.computePool2DInfo([1, x.h, x.w, x.c], pool, strides, 1, cfg.padding);
      const out = newValue(t, [info.outHeight, info.outWidth, x.c]);
      const p = info.padInfo;
      chunks.push([Code.MaxPool, 10, ins[0], out, pool[0], pool[1], strides[0], strides[1], p.top, p.left, p.bottom, p.right]);
      links.push([ins[0], out]);
    } else if (cls === 'Reshape' || cls === 'Dropout') {
      const x = values[ins[0]];
      const total = x.h * x.w * x.c;
      const target = ((cfg.targetShape as (number | null)[]) ?? []).slice(); // an inferred entry (-1) reads null
      const open = (v: number | null) => v == null || v === -1;
      const known = target.reduce<number>((a, b) => (open(b) ? a : a * b!), 1);
      const d = cls === 'Dropout' ? [x.h, x.w, x.c] : dims([null, ...target.map((v) => (open(v) ? total / known : v))]);
      if (!d || d[0] * d[1] * d[2] !== x.h * x.w * x.c) throw new Unsupported(`${layer.name}: target shape`);
      const out = newValue(t, d as [number, number, number], ins[0]);
      links.push([ins[0], out]);
    } else {
      throw new Unsupported(`${layer.name} (${cls})`);
    }
  }

  const outputs = model.outputs.map(valueOf);
  const root = (v: number): number => (values[v].alias >= 0 ? root(values[v].alias) : v);
  const roots = outputs.map(root);
  if (new Set(roots).size !== roots.length || roots.includes(input)) throw new Unsupported('outputs sharing memory');
  for (const o of outputs) values[o].f32 = true;
  // Every op but a convolution reads and writes one dtype: f32 spreads along those links.
  for (let changed = true; changed;) {
    changed = false;
    for (const group of links) {
      if (group.some((v) => values[v].f32) && group.some((v) => !values[v].f32)) {
        group.forEach((v) => (values[v].f32 = true));
        changed = true;
      }
    }
  }

  const weights = new Float32Array(weightLength);
  let at = 0;
  for (const part of weightParts) {
    weights.set(part, at);
    at += part.length;
  }
  const header = [values.length, chunks.length, input, outputs.length, ...outputs];
  const body = values.flatMap((v) => [v.h, v.w, v.c, v.f32 ? 0 : 1, v.alias]);
  return {
    spec: Int32Array.from([...header, ...body, ...chunks.flat()]),
    weights,
    // Per image, in the rank the model states: (h, w, c), (rows, c) or (c).
    outputShapes: outputs.map((v, i) => {
      const { h, w, c } = values[v];
      return [[c], [h * w, c], [h, w, c]][model.outputs[i].shape.length - 2];
    }),
  };
}

/** Input sizes a fully convolutional model keeps compiled graphs for (each holds its buffers per batch size). */
const MAX_SIZES = 4;

/** An inference graph run by the native graph runner; the layer-by-layer graph stays as the fallback. */
export class NativeGraphModel implements InferenceModel {
  readonly precision?: 'f32' | 'bf16';
  /** Which runner answers (shown in reports). */
  readonly graph = 'native';
  /** Per input size `h×w`: the runner's graph, or null where it cannot take that size (the layers answer). */
  private readonly graphs = new Map<string, { id: number; outputShapes: number[][] } | null>();
  private fallback = false;

  /** `probe`: the spec compiled at load for `size` (the model's declared input size), so the first batch there does not compile it again. */
  constructor(
    private readonly addon: OneDnnAddon,
    readonly layers: tf.LayersModel & { precision?: 'f32' | 'bf16' },
    probe?: { size: [number, number]; compiled: Compiled },
  ) {
    this.precision = layers.precision;
    if (probe) this.graphs.set(`${probe.size[0]}x${probe.size[1]}`, this.create(probe.compiled));
  }

  private create(compiled: Compiled): { id: number; outputShapes: number[][] } {
    return { id: this.addon.graphCreate!(compiled.spec, compiled.weights), outputShapes: compiled.outputShapes };
  }

  get inputs() {
    return this.layers.inputs;
  }

  get outputs() {
    return this.layers.outputs;
  }

  getUserDefinedMetadata(): object | undefined {
    return this.layers.getUserDefinedMetadata();
  }

  /** The graph for input images of `h × w` (compiled on first use; a fully convolutional model gets one per size). */
  private graphFor(h: number, w: number): { id: number; outputShapes: number[][] } | null {
    const key = `${h}x${w}`;
    let graph = this.graphs.get(key);
    if (graph === undefined) {
      const compiled = compile(this.layers, [h, w]);
      graph = 'reason' in compiled ? null : this.create(compiled);
      // Uploads of ever new sizes must not grow memory without bound: the least recently used size goes.
      if (this.graphs.size >= MAX_SIZES) {
        const [oldest, old] = this.graphs.entries().next().value as [string, { id: number } | null];
        if (old) this.addon.graphRelease!(old.id);
        this.graphs.delete(oldest);
      }
    } else {
      this.graphs.delete(key); // re-inserted below: most recently used last
    }
    this.graphs.set(key, graph);
    return graph;
  }

  predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const input = Array.isArray(x) ? x[0] : x;
    const c = this.layers.inputs[0].shape[3];
    const fits = input.rank === 4 && input.shape[0] > 0 && input.shape[3] === c;
    const graph = fits && !this.fallback && tf.getBackend() === 'wasm' ? this.graphFor(input.shape[1]!, input.shape[2]!) : null;
    if (!graph) return this.layers.predict(x);
    const b = tf.backend() as unknown as WasmBackend;
    const f32 = input.dtype === 'float32' ? input : tf.cast(input, 'float32');
    try {
      if (!b.dataIdMap.get(f32.dataId)) return this.layers.predict(x);
      const n = input.shape[0];
      const outs = graph.outputShapes.map((s) => b.makeOutput([n, ...s], 'float32'));
      // The heap's buffer is read after allocating: allocation can grow (and so replace) it.
      const io = Int32Array.from([offsetOf(b, f32), ...outs.map((o) => offsetOf(b, o))]);
      if (!this.addon.graphRun!(graph.id, b.wasm.HEAPU8.buffer, n, io)) {
        outs.forEach((o) => b.disposeData(o.dataId, true));
        this.fallback = true; // oneDNN has no implementation for one of its layers here
        return this.layers.predict(x);
      }
      const tensors = outs.map((o) => tf.engine().makeTensorFromTensorInfo(o));
      return tensors.length === 1 ? tensors[0] : tensors;
    } finally {
      if (f32 !== input) f32.dispose();
    }
  }

  dispose(): unknown {
    for (const g of this.graphs.values()) if (g) this.addon.graphRelease!(g.id);
    this.graphs.clear();
    return this.layers.dispose();
  }
}

function compile(model: tf.LayersModel & { precision?: 'f32' | 'bf16' }, size: [number, number]): Compiled | { reason: string } {
  try {
    return buildSpec(model, model.precision === 'bf16', size);
  } catch (e) {
    if (e instanceof Unsupported) return { reason: e.message };
    throw e;
  }
}

/**
 * The graph runner's model for an inference graph, or the reason it cannot take the graph: a layer it does not
 * run, or no graph runner in this addon. Checked at the input size the model states (160 × 160 where it leaves it
 * open); other sizes compile on first use. Outputs equal the layer-by-layer graph's within float rounding (bf16
 * graphs: within bf16 rounding of the activations between layers).
 */
export function compileNativeGraph(addon: OneDnnAddon, model: tf.LayersModel & { precision?: 'f32' | 'bf16' }): NativeGraphModel | { reason: string } {
  if (!addon.graphCreate || !addon.graphRun || !addon.graphRelease) return { reason: 'the addon has no graph runner (rebuild it)' };
  assertWasmInternals(tf.backend());
  const [, h, w] = model.inputs[0]?.shape ?? [];
  const size: [number, number] = [h ?? 160, w ?? 160];
  const probe = compile(model, size);
  if ('reason' in probe) return probe;
  // A fixed input size is the size every batch comes at: keep its graph. A fully convolutional model's probe size is a guess.
  return new NativeGraphModel(addon, model, h != null && w != null ? { size, compiled: probe } : undefined);
}
