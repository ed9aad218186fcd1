import { jobSchema, loaderKeys } from '@cv/engine';
import { finetuneKeys, listBackbones } from '@cv/backbones';
import { z } from 'zod';
import { SEGMENTERS } from './models';

/** Every setting of a segmentation training run: the shared job keys and these. */
export const SegmentTrainSchema = jobSchema({ epochs: 10, batchSize: 16, lr: 2e-3, workers: 1, precision: 'auto', root: 'runs/segment' }).extend({
  ...loaderKeys,
  images: z.string().optional().describe('folder of training images (with --masks, or the images of --data)'),
  masks: z.string().optional().describe('folder of class-index mask PNGs, matched to the images by file name'),
  data: z.string().optional().describe('training set as a COCO segmentation JSON (polygons / RLE), with --images'),
  valImages: z.string().optional().describe('validation images (default: a seeded 10 % of the training images)'),
  valMasks: z.string().optional().describe('validation masks'),
  valData: z.string().optional().describe('validation COCO JSON (with --val-images)'),
  classes: z.string().optional().describe('class names, comma-separated, background first (default: the COCO categories, masks/classes.txt, or class1..N)'),
  model: z
    .enum(Object.keys(SEGMENTERS) as [string, ...string[]])
    .default('unet-t')
    .describe(`segmenter: ${Object.keys(SEGMENTERS).join(', ')}`),
  encoder: z
    .enum(listBackbones() as [string, ...string[]])
    .optional()
    .describe(`encoder from the backbone registry in place of the size's (${listBackbones().join(', ')})`),
  pretrained: z
    .union([z.boolean(), z.string()])
    .default(false)
    .describe(
      "encoder: load the registry backbone's shipped pretrained weights (true) or a model folder (path; e.g. written by backbones:import); the decoder starts fresh",
    ),
  widthMult: z.number().positive().max(4).default(1).describe('--encoder of the reference architectures (resnet18, ...): torchvision width multiplier'),
  ...finetuneKeys,
  upsample: z
    .enum(['nearest', 'transpose'])
    .default('transpose')
    .describe('decoder upsampling: a 2×2/2 transposed conv (default: learnt faster here), or nearest resize + conv'),
  imgsz: z.number().int().positive().default(160).describe('training size (square, a multiple of the reduction); images are letterboxed to it'),
  loss: z.string().default('ce+dice').describe('loss: a sum of ce, dice, focal, jaccard with optional weights (0.5*ce+dice)'),
  classWeights: z.string().optional().describe('cross-entropy class weights, comma-separated, one per class'),
  flip: z.number().min(0).max(1).default(0.5).describe('augment: horizontal flip probability'),
  scale: z.number().min(0).max(0.9).default(0.25).describe('augment: max relative scale change (random affine; masks by nearest neighbour)'),
  translate: z.number().min(0).max(0.5).default(0.1).describe('augment: max translation, fraction of the size'),
  degrees: z.number().min(0).max(180).default(0).describe('augment: max rotation in degrees'),
  hsvH: z.number().min(0).max(0.5).default(0.015).describe('augment: max hue shift (images only)'),
  hsvS: z.number().min(0).max(1).default(0.5).describe('augment: max relative saturation change (images only)'),
  hsvV: z.number().min(0).max(1).default(0.3).describe('augment: max relative value change (images only)'),
  closeAugment: z.number().int().min(0).default(1).describe('turn the geometric augmentation off for the last N planned epochs'),
  warmupEpochs: z.number().min(0).default(0.3).describe('linear learning-rate warm-up, in epochs'),
  clipNorm: z.number().min(0).default(10).describe('clip gradients to this global L2 norm (0 = off)'),
});

export type SegmentTrainConfig = z.infer<typeof SegmentTrainSchema>;
