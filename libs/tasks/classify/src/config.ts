import { jobSchema } from '@cv/engine';
import { finetuneKeys } from '@cv/backbones';
import { z } from 'zod';
import { listClassifiers } from './models';

/** Every setting of a classification training run, with its default and meaning: the shared job keys and these. */
export const ClassifyTrainSchema = jobSchema({ epochs: 3, batchSize: 64, lr: 2e-3, workers: 1, root: 'runs/classify' }).extend({
  dataset: z
    .string()
    .default('fashion-mnist')
    .describe('fashion-mnist, mnist, glyphs (procedural pen strokes, 100 classes), or an image folder (<root>/<class>/*.png)'),
  model: z
    .string()
    .default('reference-cnn')
    .refine((m) => listClassifiers().includes(m), { message: `must be one of: ${listClassifiers().join(', ')}` })
    .describe(`architecture: ${listClassifiers().join(', ')}`),
  optimizer: z.enum(['adam', 'sgd']).default('adam').describe('adam, or sgd with Nesterov momentum 0.9'),
  trainLimit: z.number().int().min(0).default(0).describe('use the first N training images, class-balanced (0 = all)'),
  classes: z.string().default('').describe('keep only these class indices, e.g. 5,6,7,8,9 (relabelled 0..k-1 in that order; empty = all)'),
  valFraction: z.number().min(0).max(0.5).default(0.1).describe('fraction of the training split held out for validation'),
  dropout: z.number().min(0).max(0.95).default(0.25).describe('dropout rate before the classifier (reference-cnn; the head of backbone models)'),
  spatialDropout: z.number().min(0).max(0.9).default(0).describe('regularize: spatial (channel) dropout rate on the last feature map'),
  dropBlock: z.number().min(0).max(0.9).default(0).describe('regularize: DropBlock rate on the last feature map'),
  dropBlockSize: z.number().int().positive().default(3).describe('regularize: DropBlock block size'),
  labelSmoothing: z.number().min(0).max(0.5).default(0).describe('regularize: label smoothing ε'),
  mixup: z.number().min(0).default(0).describe('regularize: mixup α (0 = off)'),
  cutmix: z.number().min(0).default(0).describe('regularize: CutMix α (0 = off; with mixup too, each step picks one)'),
  l2: z.number().min(0).default(0).describe('regularize: L2 penalty coefficient added to the loss'),
  imageSize: z.number().int().positive().default(28).describe('image-folder datasets: images are resized to this square size'),
  channels: z
    .union([z.literal(1), z.literal(3)])
    .default(1)
    .describe('image-folder datasets: 1 = gray, 3 = RGB'),
  cropPadding: z.number().int().min(0).default(0).describe('augment: random crop after this much zero padding'),
  flip: z.number().min(0).max(1).default(0).describe('augment: horizontal flip probability'),
  rotate: z.number().min(0).default(0).describe('augment: max rotation in degrees'),
  scale: z.number().min(0).max(0.9).default(0).describe('augment: max relative scale change'),
  translate: z.number().min(0).max(0.5).default(0).describe('augment: max translation, fraction of size'),
  brightness: z.number().min(0).max(1).default(0).describe('augment: max brightness shift'),
  contrast: z.number().min(0).max(1).default(0).describe('augment: max relative contrast change'),
  pretrained: z
    .union([z.boolean(), z.string()])
    .default(false)
    .describe('backbone models: load the shipped pretrained weights (true) or a tfjs LayersModel folder (path)'),
  ...finetuneKeys,
  widthMult: z
    .number()
    .positive()
    .max(4)
    .default(1)
    .describe('reference architectures (resnet18, mobilenet_v3_small...): torchvision width multiplier (1 = the published widths)'),
  bn: z.enum(['before-act', 'after-act', 'none']).default('before-act').describe('backbone models: BatchNorm before or after the activation, or none'),
});

export type ClassifyTrainConfig = z.infer<typeof ClassifyTrainSchema>;
