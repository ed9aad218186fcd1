import { jobSchema } from '@cv/engine';
import { z } from 'zod';
import { SEQUENCE_MODELS } from './models';

/** Every setting of a sequence training run: the shared job keys and these. */
export const SequenceTrainSchema = jobSchema({ epochs: 10, batchSize: 64, lr: 2e-3, root: 'runs/sequence' }).extend({
  dataset: z.string().default('mnist-rows').describe('mnist-rows (28 steps × 28), mnist-pixels (784 × 1), or a CSV file / folder of CSV files'),
  permute: z.boolean().default(false).describe('mnist-pixels: one seeded permutation of the pixel order (permuted sequential MNIST)'),
  labelColumn: z.string().default('label').describe('CSV: the column holding the class'),
  testFraction: z.number().min(0).max(0.9).default(0.2).describe('CSV: a seeded, stratified fraction held out as test'),
  valFraction: z.number().min(0).max(0.5).default(0.1).describe('fraction of the training sequences held out for validation'),
  trainLimit: z.number().int().min(0).default(0).describe('train on the first N training sequences only (0 = all)'),
  model: z
    .enum(SEQUENCE_MODELS)
    .default('tcn')
    .describe(`architecture: ${SEQUENCE_MODELS.join(', ')}`),
  width: z.number().int().positive().default(64).describe('channels of every conv layer'),
  kernelSize: z.number().int().min(2).default(3).describe('conv kernel size'),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('TCN: dropout after every conv'),
});

export type SequenceTrainConfig = z.infer<typeof SequenceTrainSchema>;
