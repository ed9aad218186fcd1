import * as tf from '@tensorflow/tfjs';
import { basicBlock, convUnit, cspBlock, invertedResidual, maxPool } from './blocks';
import { REFERENCE_DEFINITIONS } from './reference/models';
import type { BackboneDefinition, BackboneGraph, BuildContext } from './types';

type ST = tf.SymbolicTensor;
const channelsOf = (x: ST) => x.shape[x.shape.length - 1] as number;

/** The seed's SimpleCNN body: one 3×3 conv with 32 filters and ReLU (same padding, no reduction). */
const simpleCnn: BackboneDefinition = {
  description: 'one conv 3×3 ×32 + ReLU (the seed SimpleCNN body); 1 stage, reduction 1',
  build(input, ctx) {
    const conv = tf.layers.conv2d({
      filters: 32,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: tf.initializers.glorotUniform({ seed: ctx.seed() }),
      name: 'stage1_conv',
    });
    const out = conv.apply(input) as ST;
    return { input, stages: [{ name: 'stage1', channels: 32, reduction: 1, output: out }] };
  },
};

/** VGG-style: [conv-conv-pool] with 32, 64, 128 channels. */
const vggS: BackboneDefinition = {
  description: 'VGG-style, 3 stages of conv3×3 ×2 + max-pool (32/64/128 ch); reductions 2/4/8',
  build(input, ctx) {
    const stages: BackboneGraph['stages'] = [];
    let x = input;
    [32, 64, 128].forEach((c, i) => {
      const name = `stage${i + 1}`;
      x = convUnit(x, c, 3, 1, 'relu', `${name}_c1`, ctx);
      x = convUnit(x, c, 3, 1, 'relu', `${name}_c2`, ctx);
      x = maxPool(x, `${name}_pool`);
      stages.push({ name, channels: c, reduction: 2 ** (i + 1), output: x });
    });
    return { input, stages };
  },
};

/**
 * ResNet-18-style: a 3×3 stem at stride 2 (small inputs: 28–256 px), then 4 stages of 2 basic blocks
 * (16/32/64/128 ch: a quarter of ResNet-18's widths, to train on one CPU thread), the last three at
 * stride 2; reductions 2/2/4/8/16.
 */
const resnetS: BackboneDefinition = {
  description: 'ResNet-18-style: stem 3×3/2 + 4 stages × 2 basic blocks (16/32/64/128 ch); reductions 2/2/4/8/16',
  build(input, ctx) {
    let x = convUnit(input, 16, 3, 2, 'relu', 'stem', ctx);
    const stages: BackboneGraph['stages'] = [{ name: 'stem', channels: 16, reduction: 2, output: x }];
    [16, 32, 64, 128].forEach((c, i) => {
      const name = `stage${i + 1}`;
      const stride = i === 0 ? 1 : 2;
      x = basicBlock(x, c, stride, `${name}_block1`, ctx);
      x = basicBlock(x, c, 1, `${name}_block2`, ctx);
      stages.push({ name, channels: c, reduction: 2 * 2 ** i, output: x });
    });
    return { input, stages };
  },
};

/**
 * MobileNetV2-style: stem 3×3/2 (16 ch), inverted residual stages (t, c, n, s) = (1,16,1,1),
 * (4,24,2,2), (4,32,2,2), (4,64,2,2) — MobileNetV2's first stages with expansion 4 instead of 6;
 * reductions 2/2/4/8/16.
 */
const mobilenetV2S: BackboneDefinition = {
  description: 'MobileNetV2-style: stem 3×3/2 + 4 inverted-residual stages (16/24/32/64 ch, depthwise convs); reductions 2/2/4/8/16',
  build(input, ctx: BuildContext) {
    let x = convUnit(input, 16, 3, 2, 'relu6', 'stem', ctx);
    const stages: BackboneGraph['stages'] = [{ name: 'stem', channels: 16, reduction: 2, output: x }];
    const config: [number, number, number, number][] = [
      [1, 16, 1, 1],
      [4, 24, 2, 2],
      [4, 32, 2, 2],
      [4, 64, 2, 2],
    ];
    let reduction = 2;
    config.forEach(([t, c, n, s], i) => {
      const name = `stage${i + 1}`;
      for (let b = 0; b < n; b++) x = invertedResidual(x, c, b === 0 ? s : 1, t, `${name}_block${b + 1}`, ctx);
      reduction *= s;
      stages.push({ name, channels: channelsOf(x), reduction, output: x });
    });
    return { input, stages };
  },
};

/**
 * CSP-Darknet-style (YOLOv5/v8 backbones, scaled down): stem 3×3/2, then 4 stages of a 3×3/2 conv and a CSP
 * block (depths 1/2/2/1), SiLU; reductions 2/4/8/16/32 — the strides 8/16/32 a detector's neck takes.
 */
function cspDarknet(widths: [number, number, number, number, number], description: string): BackboneDefinition {
  return {
    description,
    build(input, ctx) {
      let x = convUnit(input, widths[0], 3, 2, 'silu', 'stem', ctx);
      const stages: BackboneGraph['stages'] = [{ name: 'stem', channels: widths[0], reduction: 2, output: x }];
      [1, 2, 2, 1].forEach((depth, i) => {
        const name = `stage${i + 1}`;
        x = convUnit(x, widths[i + 1], 3, 2, 'silu', `${name}_down`, ctx);
        x = cspBlock(x, widths[i + 1], depth, true, `${name}_csp`, ctx);
        stages.push({ name, channels: widths[i + 1], reduction: 2 ** (i + 2), output: x });
      });
      return { input, stages };
    },
  };
}

/** The classic U-Net encoder (Ronneberger et al.), narrow: [conv3×3-BN-ReLU ×2] per level, max-pool between levels. */
const unetEncoder: BackboneDefinition = {
  description: 'classic U-Net encoder: 4 levels of conv3×3 ×2 (16/32/64/128 ch), max-pool between; reductions 1/2/4/8',
  build(input, ctx) {
    const stages: BackboneGraph['stages'] = [];
    let x = input;
    [16, 32, 64, 128].forEach((c, i) => {
      const name = `stage${i + 1}`;
      if (i > 0) x = maxPool(x, `${name}_pool`);
      x = convUnit(x, c, 3, 1, 'relu', `${name}_c1`, ctx);
      x = convUnit(x, c, 3, 1, 'relu', `${name}_c2`, ctx);
      stages.push({ name, channels: c, reduction: 2 ** i, output: x });
    });
    return { input, stages };
  },
};

export const DEFINITIONS: Record<string, BackboneDefinition> = {
  'simple-cnn': simpleCnn,
  'vgg-s': vggS,
  'resnet-s': resnetS,
  'mobilenetv2-s': mobilenetV2S,
  'csp-s': cspDarknet(
    [16, 32, 64, 128, 256],
    'CSP-Darknet-style: stem 3×3/2 + 4 stages of conv/2 + CSP block (16/32/64/128/256 ch, SiLU); reductions 2/4/8/16/32',
  ),
  'csp-t': cspDarknet([16, 32, 48, 96, 160], 'CSP-Darknet-style, narrower: 16/32/48/96/160 ch; reductions 2/4/8/16/32'),
  'csp-m': cspDarknet([24, 48, 96, 192, 384], 'CSP-Darknet-style, wider: 24/48/96/192/384 ch; reductions 2/4/8/16/32'),
  'unet-enc': unetEncoder,
  ...REFERENCE_DEFINITIONS,
};
