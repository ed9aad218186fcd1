import * as tf from '@tensorflow/tfjs';
import { convUnit, createBackbone, cspBlock, depthwiseUnit, type FeatureInfo } from '@cv/backbones';
import { Rng } from '@cv/engine/core';

type ST = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: ST | ST[]) => layer.apply(x) as ST;

/** Sizes of the detector (width of the backbone and neck). */
export const DETECTORS: Record<string, { backbone: string; description: string; dwClassHead?: boolean }> = {
  'yolo-t': { backbone: 'csp-t', description: 'csp-t backbone (16–160 ch), PAN neck, decoupled DFL head: 0.27 GFLOP at 160²' },
  'yolo-n': { backbone: 'csp-s', description: 'csp-s backbone (16–256 ch), PAN neck, decoupled DFL head' },
  'yolo-n-dw': {
    backbone: 'csp-s',
    description: "yolo-n with YOLO11's class branch (depthwise 3×3 + pointwise, twice): 0.33 GFLOP at 160² instead of 0.42",
    dwClassHead: true,
  },
  'yolo-s': { backbone: 'csp-m', description: 'csp-m backbone (24–384 ch), PAN neck, decoupled DFL head' },
};

export const STRIDES = [8, 16, 32];
/** Bins of the distribution focal loss per box side (Ultralytics' reg_max). */
export const REG_MAX = 16;

export interface DetectorSpec {
  /** Input [H, W] (multiples of 32). */
  imgsz: [number, number];
  numClasses: number;
  seed: number;
  /**
   * A registry backbone in place of the size's (any with strides 8/16/32: e.g. resnet18 or mobilenet_v3_large with
   * imported torchvision weights). Maps wider than 256 channels get a 1×1 lateral projection to 256 before the neck.
   */
  backbone?: string;
  /** Reference architectures: torchvision's width multiplier of `backbone` (1 = the published widths). */
  widthMult?: number;
}

/** Widest map the neck takes from an explicit `--backbone` (wider ones are projected). */
const NECK_MAX = 256;

/**
 * An anchor-free YOLO-style detector (after YOLOv8): registry backbone (features at strides 8/16/32) →
 * PAN neck (top-down and bottom-up paths with CSP blocks) → decoupled heads per level (box: 4·REG_MAX
 * distance-bin logits; class: K logits for sigmoid scores). One output [B, A, 4·REG_MAX + K], anchors
 * level after level (see `makeAnchors`), so the saved model is one plain LayersModel.
 *
 * @example
 * const model = createDetector('yolo-n', { imgsz: [160, 160], numClasses: 3, seed: 0 });
 */
export function createDetector(name: string, spec: DetectorSpec): tf.LayersModel {
  return createDetectorWithStages(name, spec).model;
}

/** `createDetector`, with the backbone's stages (for `--freeze` and the backbone's own learning rate). */
export function createDetectorWithStages(name: string, spec: DetectorSpec): { model: tf.LayersModel; stages: FeatureInfo[]; backbone: string } {
  const def = DETECTORS[name];
  if (!def) throw new Error(`unknown detector '${name}'; available: ${Object.keys(DETECTORS).join(', ')}`);
  const [h, w] = spec.imgsz;
  if (h % 32 || w % 32) throw new Error(`input size ${h}×${w} must be a multiple of 32 (strides 8/16/32)`);
  const backbone = spec.backbone ?? def.backbone;
  // PyTorch's conv init (U(±1/√fan_in)) rather than He normal: with Adam, the detector learns faster from it (tta.md).
  const init = 'fan-in-uniform' as const;
  const { model: body, stages } = createBackbone(backbone, { inputShape: [h, w, 3], featuresOnly: true, seed: spec.seed, widthMult: spec.widthMult, init });
  const picked = STRIDES.map((s) => stages.findLastIndex((f) => f.reduction === s));
  if (picked.some((i) => i < 0))
    throw new Error(`backbone '${backbone}' does not give strides 8/16/32 (its reductions: ${stages.map((f) => f.reduction).join('/')})`);
  const rng = new Rng(spec.seed ^ 0x0de7ec7);
  const ctx = { seed: () => rng.seed(), bn: 'before-act' as const, init };
  let [c3, c4, c5] = picked.map((i) => (body.outputs as ST[])[i]);
  let [w3, w4, w5] = picked.map((i) => stages[i].channels);
  if (spec.backbone) {
    const lateral = (x: ST, c: number, n: string): [ST, number] =>
      c > NECK_MAX ? [convUnit(x, NECK_MAX, 1, 1, 'silu', `neck_lat${n}`, ctx), NECK_MAX] : [x, c];
    [c3, w3] = lateral(c3, w3, '3');
    [c4, w4] = lateral(c4, w4, '4');
    [c5, w5] = lateral(c5, w5, '5');
  }
  const up = (x: ST, n: string) => apply(tf.layers.upSampling2d({ size: [2, 2], name: `neck_${n}_up` }), x);
  const cat = (xs: ST[], n: string) => apply(tf.layers.concatenate({ name: `neck_${n}_in` }), xs);
  // Top-down
  const t4 = cspBlock(cat([up(c5, 't4'), c4], 't4'), w4, 1, false, 'neck_t4', ctx);
  const p3 = cspBlock(cat([up(t4, 'p3'), c3], 'p3'), w3, 1, false, 'neck_p3', ctx);
  // Bottom-up
  const p4 = cspBlock(cat([convUnit(p3, w3, 3, 2, 'silu', 'neck_d4', ctx), t4], 'p4'), w4, 1, false, 'neck_p4', ctx);
  const p5 = cspBlock(cat([convUnit(p4, w4, 3, 2, 'silu', 'neck_d5', ctx), c5], 'p5'), w5, 1, false, 'neck_p5', ctx);
  const k = spec.numClasses;
  const cBox = Math.max(16, w3 / 4, REG_MAX * 4);
  const cCls = Math.max(w3, Math.min(k, 100));
  const outs = [p3, p4, p5].map((x, i) => {
    const s = STRIDES[i];
    const n = `head_p${i + 3}`;
    let b = convUnit(convUnit(x, cBox, 3, 1, 'silu', `${n}_box1`, ctx), cBox, 3, 1, 'silu', `${n}_box2`, ctx);
    b = apply(
      tf.layers.conv2d({
        filters: 4 * REG_MAX,
        kernelSize: 1,
        biasInitializer: tf.initializers.constant({ value: 1 }),
        kernelInitializer: tf.initializers.heNormal({ seed: ctx.seed() }),
        name: `${n}_box`,
      }),
      b,
    );
    // YOLO11's class branch: (depthwise 3×3 → 1×1) twice, a fraction of the two full 3×3 convolutions' cost.
    const dwPw = (t: ST, i: number) => convUnit(depthwiseUnit(t, 3, 1, 'silu', `${n}_cls${i}_dw`, ctx), cCls, 1, 1, 'silu', `${n}_cls${i}_pw`, ctx);
    let c = def.dwClassHead ? dwPw(dwPw(x, 1), 2) : convUnit(convUnit(x, cCls, 3, 1, 'silu', `${n}_cls1`, ctx), cCls, 3, 1, 'silu', `${n}_cls2`, ctx);
    // Prior: about 5 objects per 640² image spread over the cells of this level (Ultralytics' bias_init).
    const prior = Math.log(5 / k / (640 / s) ** 2);
    c = apply(
      tf.layers.conv2d({
        filters: k,
        kernelSize: 1,
        biasInitializer: tf.initializers.constant({ value: prior }),
        kernelInitializer: tf.initializers.heNormal({ seed: ctx.seed() }),
        name: `${n}_cls`,
      }),
      c,
    );
    const both = apply(tf.layers.concatenate({ name: `${n}_cat` }), [b, c]);
    return apply(tf.layers.reshape({ targetShape: [(h / s) * (w / s), 4 * REG_MAX + k], name: `${n}_flat` }), both);
  });
  const out = apply(tf.layers.concatenate({ axis: 1, name: 'head_out' }), outs);
  return { model: tf.model({ inputs: body.inputs, outputs: out, name }), stages, backbone };
}
