import * as tf from '@tensorflow/tfjs';
import { FreezableBatchNorm, HardSigmoid, HardSwish, SeededDropout, StochasticDepth } from '@cv/engine/core';
import type { BuildContext, TorchKind, TorchLayer } from '../types';

export type { TorchKind, TorchLayer };

/**
 * Building blocks of the reference architectures, laid out as PyTorch lays them out so that published
 * weights load: each parametric layer is named after its PyTorch module path ('.' → '_') and recorded with that
 * path in `ctx.torch`, in forward order (the order an ONNX export lists the operators in).
 */

type ST = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

export type TorchAct = 'relu' | 'relu6' | 'silu' | 'hardswish' | 'hardsigmoid' | 'sigmoid' | 'none';

/** PyTorch module path → tfjs layer name. */
export const layerName = (module: string) => module.replace(/\./g, '_');

function record(ctx: BuildContext, module: string, kind: TorchKind, bias: boolean): string {
  const layer = layerName(module);
  ctx.torch?.push({ layer, module, kind, bias });
  return layer;
}

/** An activation as PyTorch computes it, named `<name>`. */
export function act(x: ST, kind: TorchAct, name: string): ST {
  switch (kind) {
    case 'none':
      return x;
    case 'relu6':
      return apply(tf.layers.reLU({ maxValue: 6, name }), x);
    case 'silu':
      return apply(tf.layers.activation({ activation: 'swish', name }), x);
    case 'sigmoid':
      return apply(tf.layers.activation({ activation: 'sigmoid', name }), x);
    case 'hardswish':
      return apply(new HardSwish({ name }), x);
    case 'hardsigmoid':
      return apply(new HardSigmoid({ name }), x);
    default:
      return apply(tf.layers.activation({ activation: 'relu', name }), x);
  }
}

/** PyTorch's symmetric padding (k − 1) / 2 · d: 'same' where tfjs pads alike, else explicit zero padding + 'valid'. */
function torchPadding(x: ST, kernel: number, stride: number, name: string): { x: ST; padding: 'same' | 'valid' } {
  const pad = (kernel - 1) >> 1;
  if (pad === 0) return { x, padding: 'valid' };
  // tfjs's 'same' at stride 1 with an odd kernel pads (k − 1) / 2 on both sides, as PyTorch; at stride 2 it pads
  // the bottom / right more on even sizes, so PyTorch's padding is made explicit there.
  if (stride === 1 && kernel % 2 === 1) return { x, padding: 'same' };
  return { x: apply(tf.layers.zeroPadding2d({ padding: pad, name: `${name}_pad` }), x), padding: 'valid' };
}

/** `nn.Conv2d` (groups 1 or depthwise), PyTorch padding, recorded under `module`. */
export function conv(
  x: ST,
  o: { filters: number; kernel: number; stride?: number; depthwise?: boolean; bias?: boolean },
  module: string,
  ctx: BuildContext,
): ST {
  const stride = o.stride ?? 1;
  const bias = o.bias ?? false;
  const name = record(ctx, module, o.depthwise ? 'dwconv' : 'conv', bias);
  const padded = torchPadding(x, o.kernel, stride, name);
  const layer = o.depthwise
    ? tf.layers.depthwiseConv2d({
        kernelSize: o.kernel,
        strides: stride,
        padding: padded.padding,
        useBias: bias,
        depthwiseInitializer: tf.initializers.heNormal({ seed: ctx.seed() }),
        name,
      })
    : tf.layers.conv2d({
        filters: o.filters,
        kernelSize: o.kernel,
        strides: stride,
        padding: padded.padding,
        useBias: bias,
        kernelInitializer: tf.initializers.heNormal({ seed: ctx.seed() }),
        name,
      });
  return apply(layer, padded.x);
}

/** `nn.BatchNorm2d` with PyTorch's epsilon (`ctx.bnEps`, 1e-5 unless the architecture says otherwise). */
export function bn(x: ST, module: string, ctx: BuildContext, momentum = 0.1): ST {
  const name = record(ctx, module, 'bn', true);
  return apply(new FreezableBatchNorm({ name, epsilon: ctx.bnEps ?? 1e-5, momentum: 1 - momentum }) as unknown as tf.layers.Layer, x);
}

/** torchvision's `Conv2dNormActivation`: `<module>.0` conv, `<module>.1` BatchNorm, then the activation. */
export function convNormAct(
  x: ST,
  o: { filters: number; kernel: number; stride?: number; depthwise?: boolean },
  activation: TorchAct,
  module: string,
  ctx: BuildContext,
): ST {
  const y = bn(conv(x, o, `${module}.0`, ctx), `${module}.1`, ctx, ctx.bnMomentum);
  return act(y, activation, `${layerName(module)}_act`);
}

/** `nn.Linear`, recorded under `module`; `name` overrides the tfjs layer name (a task head: 'head_fc'). */
export function linear(x: ST, units: number, module: string, ctx: BuildContext, name?: string): ST {
  const layer = name ?? layerName(module);
  ctx.torch?.push({ layer, module, kind: 'linear', bias: true });
  return apply(tf.layers.dense({ units, kernelInitializer: tf.initializers.glorotUniform({ seed: ctx.seed() }), name: layer }), x);
}

/**
 * torchvision's `SqueezeExcitation`: global average → `fc1` (1×1 conv) → activation → `fc2` → scale activation,
 * times the input.
 */
export function squeezeExcite(x: ST, squeeze: number, activation: TorchAct, scale: TorchAct, module: string, ctx: BuildContext): ST {
  const channels = x.shape[x.shape.length - 1] as number;
  const base = layerName(module);
  let s = apply(tf.layers.globalAveragePooling2d({ name: `${base}_pool` }), x);
  s = apply(tf.layers.reshape({ targetShape: [1, 1, channels], name: `${base}_reshape` }), s);
  s = act(conv(s, { filters: squeeze, kernel: 1, bias: true }, `${module}.fc1`, ctx), activation, `${base}_act`);
  s = act(conv(s, { filters: channels, kernel: 1, bias: true }, `${module}.fc2`, ctx), scale, `${base}_scale`);
  return apply(tf.layers.multiply({ name: `${base}_mul` }), [x, s]);
}

export const add = (a: ST, b: ST, name: string) => apply(tf.layers.add({ name }), [a, b]);

export function dropout(x: ST, rate: number, name: string): ST {
  return rate > 0 ? apply(new SeededDropout({ rate, name }), x) : x;
}

export function stochasticDepth(x: ST, rate: number, name: string): ST {
  return rate > 0 ? apply(new StochasticDepth({ rate, name }), x) : x;
}

/** torchvision's `_make_divisible`: channels rounded to a multiple of `divisor`, never below 90 % of `v`. */
export function makeDivisible(v: number, divisor = 8, minValue = divisor): number {
  let n = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}
