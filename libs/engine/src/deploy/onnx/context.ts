/** What every layer converter shares: the value and context types, layouts, activations, padding. */
import type * as tf from '@tensorflow/tfjs';
import type { OnnxGraph } from './graph';

/** A layer the ONNX writer cannot express; the message names the layer and its class. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/**
 * A value in the graph. tfjs tensors are NHWC; ONNX's spatial operators want NCHW. A rank-4 value is kept
 * as NCHW (`nchw`) from the first spatial operator on and turned back (`plain`: the tfjs layout) only where
 * the layout shows: Flatten, Reshape, Dense, graph outputs.
 */
export interface Value {
  name: string;
  rank: number;
  layout: 'plain' | 'nchw';
}

export type Config = Record<string, unknown>;

export interface Ctx {
  g: OnnxGraph;
  layer: tf.layers.Layer;
  config: Config;
  weight(suffix: string): Float32Array | null;
  weightShape(suffix: string): number[];
  nchw(v: Value): Value;
  plain(v: Value): Value;
  out: string;
}

export const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/** HWIO (tfjs conv kernel) → OIHW (ONNX). Also [kh, kw, out, in] (transposed conv) → [in, out, kh, kw]. */
export function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
  return out;
}

/** Applies a Keras activation by name to `x`; returns the output name. */
export function activation(g: OnnxGraph, name: string, x: string, out: string, where: string, axis = -1): string {
  switch (name) {
    case 'linear':
      return g.node('Identity', [x], out);
    case 'relu':
      return g.node('Relu', [x], out);
    case 'sigmoid':
      return g.node('Sigmoid', [x], out);
    case 'tanh':
      return g.node('Tanh', [x], out);
    case 'elu':
      return g.node('Elu', [x], out, { alpha: { float: 1 } });
    case 'selu':
      return g.node('Selu', [x], out);
    case 'softplus':
      return g.node('Softplus', [x], out);
    case 'softsign':
      return g.node('Softsign', [x], out);
    case 'relu6':
      return g.node('Clip', [x, g.float(g.fresh('zero'), new Float32Array([0]), []), g.float(g.fresh('six'), new Float32Array([6]), [])], out);
    case 'hardSigmoid':
    case 'hard_sigmoid':
      return g.node('HardSigmoid', [x], out, { alpha: { float: 0.2 }, beta: { float: 0.5 } });
    case 'swish':
    case 'silu':
      return g.node('Mul', [x, g.node('Sigmoid', [x], g.fresh('sigmoid'))], out);
    case 'mish':
      return g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x], g.fresh('softplus'))], g.fresh('tanh'))], out);
    case 'softmax':
      return g.node('Softmax', [x], out, { axis });
    default:
      throw new OnnxExportError(
        `${where}: activation '${name}' has no ONNX equivalent in this writer (supported: linear, relu, relu6, sigmoid, tanh, elu, selu, softplus, softsign, hardSigmoid, swish, mish, softmax)`,
      );
  }
}

/** 'same' / 'valid' for Conv and pooling: SAME_UPPER is TensorFlow's SAME (the extra pixel at the end). */
export const autoPad = (padding: unknown): string => (padding === 'same' ? 'SAME_UPPER' : 'VALID');

export function checkChannelsLast(ctx: Ctx): void {
  if (ctx.config.dataFormat && ctx.config.dataFormat !== 'channelsLast') {
    throw new OnnxExportError(
      `layer '${ctx.layer.name}' (${ctx.layer.getClassName()}): dataFormat '${ctx.config.dataFormat}' is not supported; use channelsLast`,
    );
  }
}
