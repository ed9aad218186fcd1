/**
 * Sequence layers ([N, T, C] in tfjs, [N, C, T] in ONNX's `nchw` layout): Conv1D (same / valid / causal, dilated),
 * 1-D pooling, global 1-D pooling, and Dot over time (the masked sums of sequence models).
 */
import { autoPad, type Ctx, OnnxExportError, type Value } from './context';

const first = (v: unknown): number => (Array.isArray(v) ? (v[0] as number) : (v as number));

/**
 * Conv1D: kernel [k, Cin, Cout] → [Cout, Cin, k]. tfjs's 'causal' padding is refused: tfjs infers its output length
 * as 'valid' but pads as Keras does (and ignores the dilation), so no ONNX graph can match it; the suite's causal
 * convolutions export as left padding + a dilated convolution instead.
 */
export function conv1d(ctx: Ctx, x: Value): Value {
  const { g, config, layer } = ctx;
  const xin = ctx.nchw(x);
  const [k, ci, co] = ctx.weightShape('kernel');
  const w = ctx.weight('kernel')!;
  const kernel = new Float32Array(w.length);
  for (let t = 0; t < k; t++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) kernel[(o * ci + i) * k + t] = w[(t * ci + i) * co + o];
  const inputs = [xin.name, g.float(`${layer.name}/kernel`, kernel, [co, ci, k])];
  const bias = ctx.weight('bias');
  if (bias) inputs.push(g.float(`${layer.name}/bias`, bias, [co]));
  const d = first(config.dilationRate ?? 1);
  if (config.padding === 'causal')
    throw new OnnxExportError(
      `layer '${layer.name}' (Conv1D): 'causal' padding is not supported (tfjs's own is inconsistent); pad the input on the left and use 'valid'`,
    );
  const stride = first(config.strides ?? 1);
  const padding: Record<string, string | number[]> = { auto_pad: autoPad(config.padding) };
  if (config.padding === 'same' && d > 1) {
    // ONNX Runtime refuses SAME auto-padding with dilation: TensorFlow's SAME pads written out.
    const steps = (layer.inputSpec?.[0]?.shape ?? (layer.input as { shape: (number | null)[] }).shape)?.[1] ?? null;
    if (stride > 1 && steps === null)
      throw new OnnxExportError(`layer '${layer.name}' (Conv1D): 'same' with dilation and stride needs a fixed sequence length`);
    const total = stride === 1 ? (k - 1) * d : Math.max((Math.ceil(steps! / stride) - 1) * stride + (k - 1) * d + 1 - steps!, 0);
    delete padding.auto_pad;
    padding.pads = [Math.floor(total / 2), total - Math.floor(total / 2)];
  }
  const act = (config.activation as string) ?? 'linear';
  if (act !== 'linear')
    throw new OnnxExportError(`layer '${layer.name}' (Conv1D): a fused activation '${act}' is not supported; use a separate Activation layer`);
  g.node('Conv', inputs, ctx.out, { kernel_shape: [k], strides: [stride], dilations: [d], ...padding });
  return { name: ctx.out, rank: 3, layout: 'nchw' };
}

export function pool1d(ctx: Ctx, x: Value, op: 'MaxPool' | 'AveragePool'): Value {
  const xin = ctx.nchw(x);
  const size = first(ctx.config.poolSize ?? 2);
  const strides = first(ctx.config.strides ?? size);
  if (op === 'AveragePool' && ctx.config.padding === 'same')
    throw new OnnxExportError(`layer '${ctx.layer.name}' (AveragePooling1D): 'same' padding averages differently in ONNX; use 'valid'`);
  ctx.g.node(op, [xin.name], ctx.out, { kernel_shape: [size], strides: [strides], auto_pad: autoPad(ctx.config.padding) });
  return { name: ctx.out, rank: 3, layout: 'nchw' };
}

export function globalPool1d(ctx: Ctx, x: Value, op: 'ReduceMean' | 'ReduceMax'): Value {
  const v = ctx.plain(x); // [N, T, C]
  ctx.g.node(op, [v.name], ctx.out, { axes: [1], keepdims: 0 });
  return { name: ctx.out, rank: 2, layout: 'plain' };
}

/** Dot of two [N, T, ·] values over an axis of each (1: time, 2: channels) → [N, ·, ·] by one batched MatMul. */
export function dot(ctx: Ctx, inputs: Value[]): Value {
  const { g, config, layer } = ctx;
  const [a, b] = inputs.map((v) => ctx.plain(v));
  if (inputs.length !== 2 || a.rank !== 3 || b.rank !== 3) throw new OnnxExportError(`layer '${layer.name}' (Dot): only two inputs of rank 3 are supported`);
  if (config.normalize) throw new OnnxExportError(`layer '${layer.name}' (Dot): normalize is not supported`);
  const axes = (Array.isArray(config.axes) ? config.axes : [config.axes, config.axes]).map((v) => (((v as number) % 3) + 3) % 3);
  if (axes.some((v) => v === 0)) throw new OnnxExportError(`layer '${layer.name}' (Dot): the batch axis cannot be reduced`);
  const t = (v: Value) => g.node('Transpose', [v.name], g.fresh(`${layer.name}/t`), { perm: [0, 2, 1] });
  const left = axes[0] === 1 ? t(a) : a.name; // [N, P, T]
  const right = axes[1] === 1 ? b.name : t(b); // [N, T, Q]
  g.node('MatMul', [left, right], ctx.out);
  return { name: ctx.out, rank: 3, layout: 'plain' };
}
