import { jobSchema, loaderKeys } from '@cv/engine';
import { finetuneKeys, listBackbones } from '@cv/backbones';
import { z } from 'zod';
import { DETECTORS } from './models';
import { EVAL_DEFAULTS } from './defaults';

/** Every setting of a detection training run: the shared job keys and these. */
export const DetectTrainSchema = jobSchema({ epochs: 30, batchSize: 16, lr: 4e-3, workers: 1, root: 'runs/detect' }).extend({
  ...loaderKeys,
  data: z.string().optional().describe('training set: a COCO JSON (with --images)'),
  images: z.string().optional().describe("folder of the COCO file's images (default: <data folder>/images)"),
  valData: z.string().optional().describe('validation set: a COCO JSON (default: a seeded 10 % of the training images)'),
  valImages: z.string().optional().describe('folder of the validation images (default: <val-data folder>/images)'),
  model: z
    .enum(Object.keys(DETECTORS) as [string, ...string[]])
    .default('yolo-n')
    .describe(`detector: ${Object.keys(DETECTORS).join(', ')}`),
  backbone: z
    .enum(listBackbones() as [string, ...string[]])
    .optional()
    .describe(`backbone from the registry in place of the size's, with strides 8/16/32 (${listBackbones().join(', ')})`),
  pretrained: z
    .union([z.boolean(), z.string()])
    .default(false)
    .describe(
      "backbone: load the registry backbone's shipped weights (true) or a model folder (path; e.g. written by backbones:import); neck and head start fresh",
    ),
  widthMult: z.number().positive().max(4).default(1).describe('--backbone of the reference architectures (resnet18, ...): torchvision width multiplier'),
  ...finetuneKeys,
  imgsz: z
    .union([z.number().int().positive(), z.literal('auto')])
    .default('auto')
    .describe(
      "input size (square, a multiple of 32; images are letterboxed to it), or 'auto': the training images' median longer side, smaller where a --time budget would fit under 10 epochs (imgsz.ts)",
    ),
  flip: z.number().min(0).max(1).default(0.5).describe('augment: horizontal flip probability'),
  scale: z.number().min(0).max(0.9).default(0.25).describe('augment: max relative scale change (random affine)'),
  translate: z.number().min(0).max(0.5).default(0.1).describe('augment: max translation, fraction of the size'),
  degrees: z.number().min(0).max(180).default(0).describe('augment: max rotation in degrees'),
  hsvH: z.number().min(0).max(0.5).default(0.015).describe('augment: max hue shift, fraction of a turn (Ultralytics hsv_h)'),
  hsvS: z.number().min(0).max(1).default(0.3).describe('augment: max relative saturation change (Ultralytics hsv_s uses 0.7)'),
  hsvV: z.number().min(0).max(1).default(0.3).describe('augment: max relative value (brightness) change (Ultralytics hsv_v uses 0.4)'),
  mosaic: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe(
      'augment: probability of a 2×2 mosaic of four training images (0 by default: in the 20-minute budget mosaic 1.0 scored lower, see docs/results/detect.md)',
    ),
  preview: z.number().int().min(0).default(0).describe('write this many augmented training samples with their boxes drawn to <run>/preview/'),
  closeAugment: z.number().int().min(0).default(2).describe('turn mosaic and the geometric augmentation off for the last N planned epochs (close_mosaic)'),
  warmupEpochs: z.number().min(0).default(1).describe('linear learning-rate warm-up, in epochs'),
  clipNorm: z.number().min(0).default(10).describe('clip gradients to this global L2 norm (0 = off; Ultralytics clips at 10)'),
  conf: z.number().min(0).max(1).default(EVAL_DEFAULTS.conf).describe('validation: score threshold'),
  iou: z.number().min(0).max(1).default(EVAL_DEFAULTS.iou).describe('validation: NMS IoU threshold'),
  maxDet: z.number().int().positive().default(100).describe('validation: detections kept per image (COCO maxDets)'),
});

export type DetectTrainConfig = z.infer<typeof DetectTrainSchema>;
