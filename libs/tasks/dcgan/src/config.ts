import { jobSchema } from '@cv/engine';
import { z } from 'zod';

/** Every setting of a DCGAN training run, with its default and meaning: the shared job keys and these. */
export const DcganTrainSchema = jobSchema({ epochs: 30, batchSize: 64, lr: 2e-4, schedule: 'none', workers: 0, root: 'runs/dcgan' }).extend({
  dataset: z.string().default('mnist').describe('mnist, fashion-mnist, or an image folder (<root>/<class>/*.png)'),
  beta1: z.number().min(0).max(0.999).default(0.5).describe('Adam β1 of both nets'),
  latentDim: z.number().int().positive().default(100).describe('size of the latent vector z'),
  width: z.number().int().positive().default(32).describe("channels of the generator's last hidden map and the discriminator's first (doubling per scale)"),
  conditional: z.boolean().default(false).describe('class-conditional GAN (the label goes into both nets; sample with --class)'),
  realLabel: z.number().min(0.5).max(1).default(1).describe('discriminator target for real images (0.9 = one-sided label smoothing)'),
  trainLimit: z.number().int().min(0).default(0).describe('use the first N training images, class-balanced (0 = all)'),
  imageSize: z.number().int().positive().default(28).describe('image-folder datasets: images are resized to this square size (a multiple of 4)'),
  channels: z
    .union([z.literal(1), z.literal(3)])
    .default(1)
    .describe('image-folder datasets: 1 = gray, 3 = RGB'),
  evalClassifier: z
    .string()
    .default('auto')
    .describe(
      "classifier for per-epoch FID / confidence / class entropy: a classify model folder, 'auto' (models/classify/<dataset> when it exists) or 'none'",
    ),
  evalSamples: z.number().int().min(0).default(1000).describe('generated samples scored after each epoch (0 = no per-epoch metrics)'),
});

export type DcganTrainConfig = z.infer<typeof DcganTrainSchema>;

/** `dcgan:sample` settings. */
export const DcganSampleSchema = z.object({
  model: z.string().describe('a dcgan:train run folder, or a generator folder (models/dcgan/mnist)'),
  n: z.number().int().describe('images to draw (a grid), or frames of the --interpolate strip'),
  out: z.string().optional().describe('PNG to write (the grid, or the interpolation strip)'),
  class: z.number().int().min(0).optional().describe('class-conditional models: draw this class only'),
  interpolate: z.boolean().default(false).describe('write a strip of n frames interpolating z between seeds --seed and --seed+1'),
  seed: z.number().int().min(0).default(1).describe('seed of the latent vectors'),
  evalClassifier: z.string().optional().describe('a classify model folder: score the samples (mean confidence, class entropy, FID vs the real data)'),
  json: z.boolean().default(false).describe('print the scores as one JSON object'),
  cols: z.number().int().min(0).default(0).describe('grid columns (0 = ⌈√n⌉)'),
});

export type DcganSampleConfig = z.infer<typeof DcganSampleSchema>;

export type { GeneratorMetadata } from './predictor';
