import * as tf from '@tensorflow/tfjs';
import { Normalize } from '@cv/engine/core';
import type { BackboneDefinition, BackboneGraph, BuildContext, ReferencePreprocess } from '../types';
import { act, add, bn, conv, convNormAct, dropout, layerName, linear, makeDivisible, squeezeExcite, stochasticDepth, type TorchAct } from './torch';

/**
 * Reference architectures with torchvision 0.14's exact layer structure and module names, so that
 * torchvision (and timm-converted) weights load through `backbones:import`: ResNet-18/50, MobileNetV2,
 * MobileNetV3-Small/Large, EfficientNet-B0. Their input is 0..1 RGB; the model normalises it (ImageNet mean/std).
 */

type ST = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;
const channelsOf = (x: ST) => x.shape[x.shape.length - 1] as number;

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];
const imagenet = (resize: number, crop: number, interpolation: 'bilinear' | 'bicubic' = 'bilinear'): ReferencePreprocess => ({
  resize,
  crop,
  interpolation,
  mean: IMAGENET_MEAN,
  std: IMAGENET_STD,
});

/** One block of a network body: its output, geometry and the layer-name prefixes it owns. */
interface Block {
  output: ST;
  reduction: number;
  prefixes: string[];
}

/**
 * Stages from blocks, timm-style: the last block at each reduction ends a stage; stage 0 is 'stem' (reduction 2),
 * then 'stage1'...; each stage owns the layers of the blocks since the previous stage.
 */
function stagesOf(input: ST, blocks: Block[]): BackboneGraph {
  const stages: BackboneGraph['stages'] = [];
  let owned: string[] = [];
  blocks.forEach((b, i) => {
    owned.push(...b.prefixes);
    if (i + 1 < blocks.length && blocks[i + 1].reduction === b.reduction) return;
    const name = stages.length === 0 ? 'stem' : `stage${stages.length}`;
    stages.push({ name, channels: channelsOf(b.output), reduction: b.reduction, output: b.output, layers: owned });
    owned = [];
  });
  return { input, stages };
}

/** The model's first layer: 0..1 RGB → normalised as the published weights expect. */
function normalizeInput(input: ST, pre: ReferencePreprocess, arch: string): ST {
  const c = channelsOf(input);
  if (c !== 3) throw new Error(`backbone '${arch}' takes RGB input (3 channels), got ${c}; use --channels 3`);
  return apply(new Normalize({ mean: pre.mean, std: pre.std, name: 'normalize' }), input);
}

const gap = (x: ST, name = 'avgpool') => apply(tf.layers.globalAveragePooling2d({ name }), x);

/**
 * torchvision's `block` of MobileNetV3's InvertedResidual and EfficientNet's MBConv: 1×1 expansion (when it
 * widens), depthwise k×k, optional squeeze-excitation, 1×1 linear projection, as `<m>.block.0..`. Returns the
 * branch before the residual add.
 */
function mbBlock(
  x: ST,
  o: { exp: number; out: number; kernel: number; stride: number; act: TorchAct; se?: { squeeze: number; act: TorchAct; scale: TorchAct } },
  m: string,
  c: BuildContext,
): ST {
  let y = x;
  let j = 0;
  if (o.exp !== channelsOf(x)) y = convNormAct(y, { filters: o.exp, kernel: 1 }, o.act, `${m}.block.${j++}`, c);
  y = convNormAct(y, { filters: o.exp, kernel: o.kernel, stride: o.stride, depthwise: true }, o.act, `${m}.block.${j++}`, c);
  if (o.se) y = squeezeExcite(y, o.se.squeeze, o.se.act, o.se.scale, `${m}.block.${j++}`, c);
  return convNormAct(y, { filters: o.out, kernel: 1 }, 'none', `${m}.block.${j++}`, c);
}

/** torchvision's `classifier` of MobileNetV2 and EfficientNet: Dropout(0.2) → Linear ('classifier.1', tfjs 'head_fc'). */
const dropoutLinearHead = (x: ST, numClasses: number, ctx: BuildContext) =>
  linear(dropout(gap(x), 0.2, 'classifier_0'), numClasses, 'classifier.1', ctx, 'head_fc');

// ---------------------------------------------------------------------------------------------- ResNet

function basicBlock(x: ST, planes: number, stride: number, m: string, ctx: BuildContext): ST {
  const inplanes = channelsOf(x);
  let y = act(bn(conv(x, { filters: planes, kernel: 3, stride }, `${m}.conv1`, ctx), `${m}.bn1`, ctx), 'relu', `${layerName(m)}_relu1`);
  y = bn(conv(y, { filters: planes, kernel: 3 }, `${m}.conv2`, ctx), `${m}.bn2`, ctx);
  const identity =
    stride !== 1 || inplanes !== planes ? bn(conv(x, { filters: planes, kernel: 1, stride }, `${m}.downsample.0`, ctx), `${m}.downsample.1`, ctx) : x;
  return act(add(y, identity, `${layerName(m)}_add`), 'relu', `${layerName(m)}_relu`);
}

function bottleneck(x: ST, planes: number, stride: number, m: string, ctx: BuildContext): ST {
  const inplanes = channelsOf(x);
  const n = layerName(m);
  let y = act(bn(conv(x, { filters: planes, kernel: 1 }, `${m}.conv1`, ctx), `${m}.bn1`, ctx), 'relu', `${n}_relu1`);
  y = act(bn(conv(y, { filters: planes, kernel: 3, stride }, `${m}.conv2`, ctx), `${m}.bn2`, ctx), 'relu', `${n}_relu2`);
  y = bn(conv(y, { filters: planes * 4, kernel: 1 }, `${m}.conv3`, ctx), `${m}.bn3`, ctx);
  const identity =
    stride !== 1 || inplanes !== planes * 4 ? bn(conv(x, { filters: planes * 4, kernel: 1, stride }, `${m}.downsample.0`, ctx), `${m}.downsample.1`, ctx) : x;
  return act(add(y, identity, `${n}_add`), 'relu', `${n}_relu`);
}

function resnet(kind: 'basic' | 'bottleneck', layers: [number, number, number, number], arch: string, params: string): BackboneDefinition {
  const preprocess = imagenet(256, 224);
  return {
    description: `torchvision ${arch}: 7×7/2 stem + max-pool, ${kind} blocks ${layers.join('/')} (${params} parameters); reductions 2/4/8/16/32; weights import from torchvision`,
    build(input, ctx) {
      const c = { ...ctx, bnEps: 1e-5 };
      const width = Math.max(1, Math.round(64 * (ctx.widthMult ?? 1)));
      let x = normalizeInput(input, preprocess, arch);
      x = act(bn(conv(x, { filters: width, kernel: 7, stride: 2 }, 'conv1', c), 'bn1', c), 'relu', 'relu');
      const blocks: Block[] = [{ output: x, reduction: 2, prefixes: ['normalize', 'conv1', 'bn1', 'relu'] }];
      x = apply(tf.layers.zeroPadding2d({ padding: 1, name: 'maxpool_pad' }), x); // after ReLU: zeros pad as PyTorch's −∞
      x = apply(tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: 'maxpool' }), x);
      layers.forEach((n, i) => {
        for (let b = 0; b < n; b++) {
          const m = `layer${i + 1}.${b}`;
          const stride = b === 0 && i > 0 ? 2 : 1;
          x = (kind === 'basic' ? basicBlock : bottleneck)(x, width * 2 ** i, stride, m, c);
          blocks.push({ output: x, reduction: 4 * 2 ** i, prefixes: [layerName(m), ...(i === 0 && b === 0 ? ['maxpool'] : [])] });
        }
      });
      return stagesOf(input, blocks);
    },
    reference: {
      preprocess,
      numClasses: 1000,
      source: `torchvision.models.${arch}`,
      head: (x, numClasses, ctx) => linear(gap(x), numClasses, 'fc', ctx, 'head_fc'),
    },
  };
}

// ---------------------------------------------------------------------------------------------- MobileNetV2

const MOBILENET_V2_PRE = imagenet(256, 224);

const mobilenetV2: BackboneDefinition = {
  description: 'torchvision mobilenet_v2: inverted residuals with ReLU6 (3.5 M parameters); reductions 2/4/8/16/32; weights import from torchvision',
  build(input, ctx) {
    const c = { ...ctx, bnEps: 1e-5 };
    const w = ctx.widthMult ?? 1;
    const setting: [number, number, number, number][] = [
      [1, 16, 1, 1],
      [6, 24, 2, 2],
      [6, 32, 3, 2],
      [6, 64, 4, 2],
      [6, 96, 3, 1],
      [6, 160, 3, 2],
      [6, 320, 1, 1],
    ];
    let inp = makeDivisible(32 * w);
    const last = makeDivisible(1280 * Math.max(1, w));
    let x = convNormAct(normalizeInput(input, MOBILENET_V2_PRE, 'mobilenet_v2'), { filters: inp, kernel: 3, stride: 2 }, 'relu6', 'features.0', c);
    const blocks: Block[] = [{ output: x, reduction: 2, prefixes: ['normalize', 'features_0'] }];
    let reduction = 2;
    let idx = 1;
    for (const [t, ch, n, s] of setting) {
      const oup = makeDivisible(ch * w);
      for (let i = 0; i < n; i++) {
        const stride = i === 0 ? s : 1;
        const m = `features.${idx}`;
        const hidden = Math.round(inp * t);
        let y = x;
        let j = 0;
        if (t !== 1) y = convNormAct(y, { filters: hidden, kernel: 1 }, 'relu6', `${m}.conv.${j++}`, c);
        y = convNormAct(y, { filters: hidden, kernel: 3, stride, depthwise: true }, 'relu6', `${m}.conv.${j++}`, c);
        y = conv(y, { filters: oup, kernel: 1 }, `${m}.conv.${j++}`, c);
        y = bn(y, `${m}.conv.${j++}`, c);
        x = stride === 1 && inp === oup ? add(x, y, `${layerName(m)}_add`) : y;
        reduction *= stride;
        blocks.push({ output: x, reduction, prefixes: [layerName(m)] });
        inp = oup;
        idx++;
      }
    }
    x = convNormAct(x, { filters: last, kernel: 1 }, 'relu6', `features.${idx}`, c);
    blocks.push({ output: x, reduction, prefixes: [`features_${idx}`] });
    return stagesOf(input, blocks);
  },
  reference: {
    preprocess: MOBILENET_V2_PRE,
    numClasses: 1000,
    source: 'torchvision.models.mobilenet_v2',
    head: dropoutLinearHead,
  },
};

// ---------------------------------------------------------------------------------------------- MobileNetV3

/** torchvision's bneck_conf: input, kernel, expanded, output, SE, activation ('RE' | 'HS'), stride. */
type V3Conf = [number, number, number, number, boolean, 'RE' | 'HS', number];

const V3_LARGE: V3Conf[] = [
  [16, 3, 16, 16, false, 'RE', 1],
  [16, 3, 64, 24, false, 'RE', 2],
  [24, 3, 72, 24, false, 'RE', 1],
  [24, 5, 72, 40, true, 'RE', 2],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 3, 240, 80, false, 'HS', 2],
  [80, 3, 200, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 480, 112, true, 'HS', 1],
  [112, 3, 672, 112, true, 'HS', 1],
  [112, 5, 672, 160, true, 'HS', 2],
  [160, 5, 960, 160, true, 'HS', 1],
  [160, 5, 960, 160, true, 'HS', 1],
];
const V3_SMALL: V3Conf[] = [
  [16, 3, 16, 16, true, 'RE', 2],
  [16, 3, 72, 24, false, 'RE', 2],
  [24, 3, 88, 24, false, 'RE', 1],
  [24, 5, 96, 40, true, 'HS', 2],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 240, 40, true, 'HS', 1],
  [40, 5, 120, 48, true, 'HS', 1],
  [48, 5, 144, 48, true, 'HS', 1],
  [48, 5, 288, 96, true, 'HS', 2],
  [96, 5, 576, 96, true, 'HS', 1],
  [96, 5, 576, 96, true, 'HS', 1],
];

function mobilenetV3(arch: string, setting: V3Conf[], lastChannel: number, params: string): BackboneDefinition {
  const preprocess = imagenet(256, 224);
  return {
    description: `torchvision ${arch}: inverted residuals with squeeze-excitation and hard-swish (${params} parameters); reductions 2/4/8/16/32; weights import from torchvision`,
    build(input, ctx) {
      const c = { ...ctx, bnEps: 1e-3, bnMomentum: 0.01 };
      const w = ctx.widthMult ?? 1;
      const adj = (ch: number) => makeDivisible(ch * w);
      let x = convNormAct(normalizeInput(input, preprocess, arch), { filters: adj(setting[0][0]), kernel: 3, stride: 2 }, 'hardswish', 'features.0', c);
      const blocks: Block[] = [{ output: x, reduction: 2, prefixes: ['normalize', 'features_0'] }];
      let reduction = 2;
      setting.forEach(([i0, k, e0, o0, useSe, a, stride], b) => {
        const [inp, exp, oup] = [adj(i0), adj(e0), adj(o0)];
        const activation: TorchAct = a === 'HS' ? 'hardswish' : 'relu';
        const m = `features.${b + 1}`;
        const se = useSe ? { squeeze: makeDivisible(Math.floor(exp / 4)), act: 'relu' as const, scale: 'hardsigmoid' as const } : undefined;
        const y = mbBlock(x, { exp, out: oup, kernel: k, stride, act: activation, se }, m, c);
        x = stride === 1 && inp === oup ? add(y, x, `${layerName(m)}_add`) : y;
        reduction *= stride;
        blocks.push({ output: x, reduction, prefixes: [layerName(m)] });
      });
      const lastIn = channelsOf(x);
      x = convNormAct(x, { filters: 6 * lastIn, kernel: 1 }, 'hardswish', `features.${setting.length + 1}`, c);
      blocks.push({ output: x, reduction, prefixes: [`features_${setting.length + 1}`] });
      return stagesOf(input, blocks);
    },
    reference: {
      preprocess,
      numClasses: 1000,
      source: `torchvision.models.${arch}`,
      head(x, numClasses, ctx) {
        let y = linear(gap(x), makeDivisible(lastChannel * (ctx.widthMult ?? 1)), 'classifier.0', ctx);
        y = dropout(act(y, 'hardswish', 'classifier_1'), 0.2, 'classifier_2');
        return linear(y, numClasses, 'classifier.3', ctx, 'head_fc');
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------- EfficientNet

const EFFICIENTNET_B0_PRE = imagenet(256, 224, 'bicubic');

/** torchvision's MBConvConfig for B0: expand ratio, kernel, stride, input, output, layers. */
const B0: [number, number, number, number, number, number][] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

const efficientnetB0: BackboneDefinition = {
  description:
    'torchvision efficientnet_b0: MBConv blocks with squeeze-excitation and SiLU (5.3 M parameters); reductions 2/4/8/16/32; weights import from torchvision',
  build(input, ctx) {
    const c = { ...ctx, bnEps: 1e-5 };
    const w = ctx.widthMult ?? 1;
    const d = ctx.depthMult ?? 1;
    const setting = B0.map(([e, k, s, i, o, n]) => ({ e, k, s, i: makeDivisible(i * w), o: makeDivisible(o * w), n: Math.ceil(n * d) }));
    const total = setting.reduce((t, s) => t + s.n, 0);
    let x = convNormAct(
      normalizeInput(input, EFFICIENTNET_B0_PRE, 'efficientnet_b0'),
      { filters: setting[0].i, kernel: 3, stride: 2 },
      'silu',
      'features.0',
      c,
    );
    const blocks: Block[] = [{ output: x, reduction: 2, prefixes: ['normalize', 'features_0'] }];
    let reduction = 2;
    let blockId = 0;
    setting.forEach((cfg, si) => {
      for (let b = 0; b < cfg.n; b++) {
        const inp = b === 0 ? cfg.i : cfg.o;
        const stride = b === 0 ? cfg.s : 1;
        const m = `features.${si + 1}.${b}`;
        const expanded = makeDivisible(inp * cfg.e);
        const se = { squeeze: Math.max(1, Math.floor(inp / 4)), act: 'silu' as const, scale: 'sigmoid' as const };
        const y = mbBlock(x, { exp: expanded, out: cfg.o, kernel: cfg.k, stride, act: 'silu', se }, m, c);
        if (stride === 1 && inp === cfg.o) x = add(stochasticDepth(y, (0.2 * blockId) / total, `${layerName(m)}_drop_path`), x, `${layerName(m)}_add`);
        else x = y;
        reduction *= stride;
        blocks.push({ output: x, reduction, prefixes: [layerName(m)] });
        blockId++;
      }
    });
    const last = 4 * setting[setting.length - 1].o;
    x = convNormAct(x, { filters: last, kernel: 1 }, 'silu', `features.${setting.length + 1}`, c);
    blocks.push({ output: x, reduction, prefixes: [`features_${setting.length + 1}`] });
    return stagesOf(input, blocks);
  },
  reference: {
    preprocess: EFFICIENTNET_B0_PRE,
    numClasses: 1000,
    source: 'torchvision.models.efficientnet_b0',
    head: dropoutLinearHead,
  },
};

export const REFERENCE_DEFINITIONS: Record<string, BackboneDefinition> = {
  resnet18: resnet('basic', [2, 2, 2, 2], 'resnet18', '11.7 M'),
  resnet50: resnet('bottleneck', [3, 4, 6, 3], 'resnet50', '25.6 M'),
  mobilenet_v2: mobilenetV2,
  mobilenet_v3_small: mobilenetV3('mobilenet_v3_small', V3_SMALL, 1024, '2.5 M'),
  mobilenet_v3_large: mobilenetV3('mobilenet_v3_large', V3_LARGE, 1280, '5.5 M'),
  efficientnet_b0: efficientnetB0,
};
