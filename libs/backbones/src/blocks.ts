import * as tf from '@tensorflow/tfjs';
import { FreezableBatchNorm } from '@cv/engine';
import type { BuildContext } from './types';

type ST = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

export type Activation = 'relu' | 'relu6' | 'silu' | 'linear';

function activation(x: ST, act: Activation, name: string): ST {
  if (act === 'linear') return x;
  if (act === 'relu6') return apply(tf.layers.reLU({ maxValue: 6, name: `${name}_relu6` }), x);
  if (act === 'silu') return apply(tf.layers.activation({ activation: 'swish', name: `${name}_silu` }), x);
  return apply(tf.layers.activation({ activation: 'relu', name: `${name}_relu` }), x);
}

const bn = (name: string) => new FreezableBatchNorm({ name: `${name}_bn`, momentum: 0.9 }) as unknown as tf.layers.Layer;

/** Normalisation and activation in the configured order (BN before or after the activation, or none). */
export function normAct(x: ST, act: Activation, name: string, ctx: BuildContext): ST {
  if (ctx.bn === 'none') return activation(x, act, name);
  if (ctx.bn === 'after-act' && act !== 'linear') return apply(bn(name), activation(x, act, name));
  return activation(apply(bn(name), x), act, name);
}

/** The context's initial kernels: He normal, or U(±1/√fan_in) (variance scaling 1/3, fan in, uniform: PyTorch's). */
function kernelInit(ctx: BuildContext): ReturnType<typeof tf.initializers.heNormal> {
  return ctx.init === 'fan-in-uniform'
    ? tf.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed: ctx.seed() })
    : tf.initializers.heNormal({ seed: ctx.seed() });
}

/** conv k×k (stride s, same padding, no bias when followed by BN) → BN → activation. */
export function convUnit(x: ST, filters: number, kernelSize: number, strides: number, act: Activation, name: string, ctx: BuildContext): ST {
  const conv = tf.layers.conv2d({
    filters,
    kernelSize,
    strides,
    padding: 'same',
    useBias: ctx.bn === 'none',
    kernelInitializer: kernelInit(ctx),
    name: `${name}_conv`,
  });
  return normAct(apply(conv, x), act, name, ctx);
}

/** depthwise k×k (stride s) → BN → activation. */
export function depthwiseUnit(x: ST, kernelSize: number, strides: number, act: Activation, name: string, ctx: BuildContext): ST {
  const dw = tf.layers.depthwiseConv2d({
    kernelSize,
    strides,
    padding: 'same',
    useBias: ctx.bn === 'none',
    depthwiseInitializer: kernelInit(ctx),
    name: `${name}_dw`,
  });
  return normAct(apply(dw, x), act, name, ctx);
}

/** ResNet basic block: two 3×3 conv units, identity (or 1×1 projection) shortcut, ReLU after the add. */
export function basicBlock(x: ST, filters: number, strides: number, name: string, ctx: BuildContext): ST {
  const inChannels = x.shape[x.shape.length - 1];
  let y = convUnit(x, filters, 3, strides, 'relu', `${name}_a`, ctx);
  y = convUnit(y, filters, 3, 1, 'linear', `${name}_b`, ctx);
  const shortcut = strides !== 1 || inChannels !== filters ? convUnit(x, filters, 1, strides, 'linear', `${name}_proj`, ctx) : x;
  const sum = apply(tf.layers.add({ name: `${name}_add` }), [y, shortcut]);
  return apply(tf.layers.activation({ activation: 'relu', name: `${name}_out` }), sum);
}

/** MobileNetV2 inverted residual: 1×1 expand (×t, ReLU6) → 3×3 depthwise (ReLU6) → 1×1 linear projection. */
export function invertedResidual(x: ST, filters: number, strides: number, expand: number, name: string, ctx: BuildContext): ST {
  const inChannels = x.shape[x.shape.length - 1] as number;
  let y = expand !== 1 ? convUnit(x, inChannels * expand, 1, 1, 'relu6', `${name}_expand`, ctx) : x;
  y = depthwiseUnit(y, 3, strides, 'relu6', `${name}_depthwise`, ctx);
  y = convUnit(y, filters, 1, 1, 'linear', `${name}_project`, ctx);
  return strides === 1 && inChannels === filters ? apply(tf.layers.add({ name: `${name}_add` }), [x, y]) : y;
}

export function maxPool(x: ST, name: string): ST {
  return apply(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same', name }), x);
}

/**
 * CSP bottleneck block (YOLOv5's C3): two 1×1 branches of half width; one runs `n` residual bottlenecks
 * (1×1 → 3×3), then both are concatenated and fused by a 1×1 conv. SiLU throughout.
 */
export function cspBlock(x: ST, filters: number, n: number, shortcut: boolean, name: string, ctx: BuildContext): ST {
  const half = Math.max(1, filters >> 1);
  let a = convUnit(x, half, 1, 1, 'silu', `${name}_cv1`, ctx);
  const b = convUnit(x, half, 1, 1, 'silu', `${name}_cv2`, ctx);
  for (let i = 0; i < n; i++) {
    const y = convUnit(convUnit(a, half, 1, 1, 'silu', `${name}_m${i}_a`, ctx), half, 3, 1, 'silu', `${name}_m${i}_b`, ctx);
    a = shortcut ? apply(tf.layers.add({ name: `${name}_m${i}_add` }), [a, y]) : y;
  }
  return convUnit(apply(tf.layers.concatenate({ name: `${name}_cat` }), [a, b]), filters, 1, 1, 'silu', `${name}_cv3`, ctx);
}
