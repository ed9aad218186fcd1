import * as tf from '@tensorflow/tfjs';
import { convUnit, createBackbone, type FeatureInfo } from '@cv/backbones';
import { Rng } from '@cv/engine/core';

type ST = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

/** U-Net sizes: the registry encoder and the decoder's channels (deepest block first). */
export const SEGMENTERS: Record<string, { encoder: string; decoder: number[]; description: string }> = {
  'unet-t': { encoder: 'unet-enc', decoder: [64, 32, 16], description: 'classic U-Net encoder (16–128 ch, reductions 1–8), decoder 64/32/16' },
  'unet-n': { encoder: 'csp-s', decoder: [128, 64, 32, 16, 16], description: 'csp-s encoder (reductions 2–32), decoder 128/64/32/16/16' },
  'unet-s': { encoder: 'csp-m', decoder: [192, 96, 48, 24, 16], description: 'csp-m encoder (reductions 2–32), decoder 192/96/48/24/16' },
};

export type Upsample = 'nearest' | 'transpose';

export interface SegmenterSpec {
  numClasses: number;
  seed: number;
  /** Encoder from the backbone registry in place of the size's (any with power-of-2 reductions). */
  encoder?: string;
  /** Decoder upsampling: nearest resize + conv (smp's default) or a 2×2/2 transposed convolution. */
  upsample?: Upsample;
  /** Input channels (3). */
  channels?: number;
  /** Reference architectures: torchvision's width multiplier of `encoder`. */
  widthMult?: number;
}

/**
 * A U-Net (smp style): encoder from the backbone registry (skip features and their reductions read from
 * `featureInfo`), a decoder that, from the deepest feature up, upsamples ×2, concatenates the skip of that
 * reduction and runs two conv3×3-BN-ReLU units, then blocks without skips up to full resolution, and a 1×1
 * head to C class logits. The input is [null, null, C]: any size that is a multiple of `reductionOf`.
 *
 * @example
 * const model = createSegmenter('unet-n', { numClasses: 4, seed: 0 }); // [B, H, W, 3] → [B, H, W, 4] logits
 */
export function createSegmenter(name: string, spec: SegmenterSpec): tf.LayersModel {
  return createSegmenterWithStages(name, spec).model;
}

/** `createSegmenter`, with the encoder's stages (for `--freeze` and the encoder's own learning rate). */
export function createSegmenterWithStages(name: string, spec: SegmenterSpec): { model: tf.LayersModel; stages: FeatureInfo[]; encoder: string } {
  const size = SEGMENTERS[name];
  if (!size) throw new Error(`unknown segmenter '${name}'; available: ${Object.keys(SEGMENTERS).join(', ')}`);
  const encoder = spec.encoder ?? size.encoder;
  const {
    model: body,
    featureInfo,
    stages,
  } = createBackbone(encoder, {
    inputShape: [null, null, spec.channels ?? 3] as unknown as [number, number, number],
    featuresOnly: true,
    seed: spec.seed,
    widthMult: spec.widthMult,
  });
  // One skip per reduction: the deepest feature of each.
  const outputs = body.outputs as ST[];
  const byReduction = new Map<number, ST>();
  featureInfo.forEach((f, i) => byReduction.set(f.reduction, outputs[i]));
  const reductions = [...byReduction.keys()].sort((a, b) => a - b);
  for (const r of reductions) if (!Number.isInteger(Math.log2(r))) throw new Error(`encoder '${encoder}': reduction ${r} is not a power of 2`);
  const rng = new Rng(spec.seed ^ 0x5e9);
  const ctx = { seed: () => rng.seed(), bn: 'before-act' as const };
  let x = byReduction.get(reductions[reductions.length - 1])!;
  let r = reductions[reductions.length - 1];
  let block = 0;
  const widthOf = (i: number) => size.decoder[Math.min(i, size.decoder.length - 1)];
  while (r > 1) {
    const c = widthOf(block);
    const n = `decoder${block + 1}`;
    x =
      spec.upsample === 'transpose'
        ? apply(
            tf.layers.conv2dTranspose({
              filters: c,
              kernelSize: 2,
              strides: 2,
              kernelInitializer: tf.initializers.heNormal({ seed: ctx.seed() }),
              name: `${n}_up`,
            }),
            x,
          )
        : apply(tf.layers.upSampling2d({ size: [2, 2], name: `${n}_up` }), x);
    r /= 2;
    const skip = byReduction.get(r);
    if (skip) x = apply(tf.layers.concatenate({ name: `${n}_cat` }), [x, skip]);
    x = convUnit(x, c, 3, 1, 'relu', `${n}_c1`, ctx);
    x = convUnit(x, c, 3, 1, 'relu', `${n}_c2`, ctx);
    block++;
  }
  const logits = apply(
    tf.layers.conv2d({ filters: spec.numClasses, kernelSize: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: ctx.seed() }), name: 'head' }),
    x,
  );
  return { model: tf.model({ inputs: body.inputs, outputs: logits, name }), stages, encoder };
}

/** The largest reduction of a segmenter's encoder: inputs must be a multiple of it. */
export function reductionOf(name: string, encoder?: string): number {
  const e = encoder ?? SEGMENTERS[name]?.encoder;
  if (!e) throw new Error(`unknown segmenter '${name}'`);
  const { featureInfo, model } = createBackbone(e, { inputShape: [32, 32, 3], featuresOnly: true });
  model.dispose();
  return Math.max(...featureInfo.map((f) => f.reduction));
}
