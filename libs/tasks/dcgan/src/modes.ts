import path from 'node:path';
import { writePng } from '@cv/data';
import { need, type PredictDefinition, type TaskModes, type ValDefinition } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { z } from 'zod';
import { dcganTask } from './definition';
import type { GeneratorEvaluator, GeneratorScores } from './evaluate';
import { generatorJudge } from './judge';
import './predict'; // registers the generator's Predictor for loadPredictor
import type { GanPredictor, Samples } from './predictor';
import { writeGeneratorReport, writeImagePng } from './report';
import { generatorDir } from './sample';
import { imageGrid } from './sampling';

const drawKeys = {
  seed: z.number().int().min(0).default(1).describe('seed of the latent vectors'),
  class: z.number().int().min(0).optional().describe('class-conditional generators: draw this class only'),
};
const ValSchema = z.object({
  n: z.number().int().positive().default(1000).describe('samples drawn and scored'),
  evalClassifier: z.string().default('auto').describe("the judge: a classify model folder, or 'auto' (models/classify/<the generator's dataset>)"),
  ...drawKeys,
});
const scoresOf = ({ fid, fidFloor, meanConfidence, classEntropy }: GeneratorScores) => ({ fid, fidFloor, meanConfidence, classEntropy });

/**
 * `dcgan:val`: draws `--n` samples and scores them with a classifier of the generator's dataset — FID against the
 * real training images (and the real-vs-real floor at that sample size), mean confidence and class entropy: the
 * metrics training logs per epoch.
 */
export const dcganVal: ValDefinition<typeof ValSchema, GanPredictor, { judge: GeneratorEvaluator; folder: string }, GeneratorScores & { samples: Samples }> = {
  command: 'dcgan:val',
  task: 'dcgan',
  schema: ValSchema,
  modelDir: (cfg) => generatorDir(need(cfg.model, 'dcgan:val needs --model <generator folder or dcgan:train run>')),
  data: ({ cfg, predictor }) => generatorJudge(cfg.evalClassifier, predictor.metadata),
  async evaluate({ judge }, { cfg, predictor }) {
    const samples = await predictor.sampleAsync({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class });
    return { ...(await judge.scoreAsync(samples.images)), samples };
  },
  lines: (r, { folder }, { cfg }) => [
    `FID ${r.fid.toFixed(2)} (real-vs-real floor ${r.fidFloor.toFixed(2)}), mean confidence ${r.meanConfidence.toFixed(4)}, ` +
      `class entropy ${r.classEntropy.toFixed(4)} on ${cfg.n} samples judged by ${folder}`,
  ],
  json: (r, { folder }) => ({ ...scoresOf(r), judge: folder }),
  async report(dir, r, { folder }, { cfg, predictor, runtime }) {
    const info = { samples: cfg.n, seed: cfg.seed, model: cfg.model, dataset: predictor.metadata.dataset, judge: folder, backend: runtime };
    await writeGeneratorReport(dir, scoresOf(r), r.samples, { ...info, epochs: predictor.metadata.epochs });
    return `report → ${path.join(dir, 'report.md')} (plots/samples.png)`;
  },
};

const PredictSchema = z.object({
  n: z.number().int().positive().default(16).describe('images to draw (or frames of the --interpolate strip)'),
  interpolate: z.boolean().default(false).describe('n frames along the great circle between the latent vectors of seeds --seed and --seed+1'),
  ...drawKeys,
});
type Drawn = { image: Float32Array; label?: number };

/** `dcgan:predict`: n samples as PNGs (sample_000.png ...), their grid, and predictions.json (file, index, seed, class). */
export const dcganPredict: PredictDefinition<typeof PredictSchema, GanPredictor, number, Drawn> = {
  command: 'dcgan:predict',
  task: 'dcgan',
  schema: PredictSchema,
  needsOut: true,
  noun: 'sample',
  modelDir: generatorDir,
  sources: ({ cfg }) => Array.from({ length: cfg.n }, (_, i) => `sample_${String(i).padStart(3, '0')}`),
  read: (source) => Number(source.slice('sample_'.length)),
  batchSize: ({ cfg }) => cfg.n, // one draw of all n: the latent vectors of a seed are one stream
  async predict(indices, { cfg, predictor }) {
    const s = await predictor.sampleAsync({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class, interpolate: cfg.interpolate });
    const size = s.shape.reduce((a, b) => a * b);
    return indices.map((i) => ({ image: s.images.subarray(i * size, (i + 1) * size), label: s.labels?.[i] }));
  },
  rows: (source, o, index, { cfg, predictor }) => [
    { file: `${source}.png`, index, seed: cfg.seed, class: o.label === undefined ? undefined : predictor.metadata.classNames[o.label] },
  ],
  line: (r) => String(r.file),
  write: (dir, source, _i, o, { predictor }) => writeImagePng(path.join(dir, `${source}.png`), o.image, predictor.metadata.imageShape),
  async finish(dir, rows, { cfg, predictor }) {
    const s = await predictor.sampleAsync({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class, interpolate: cfg.interpolate });
    const grid = imageGrid(s.images, s.shape, cfg.interpolate ? cfg.n : Math.ceil(Math.sqrt(rows.length)));
    await writePng(path.join(dir, 'grid.png'), grid.pixels, grid.shape);
  },
};

/** The DCGAN task in every mode (`apps/dcgan`: `runMode(dcgan, 'val')`); `dcgan:sample` draws grids and strips. */
export const dcgan: TaskModes = {
  name: 'dcgan',
  setup: registerRegularizationLayers, // any classify model can judge samples
  train: dcganTask,
  val: dcganVal,
  predict: dcganPredict,
  usage: { train: 'nx run dcgan:train -- [--dataset mnist] [--epochs N] [--out runs/dcgan/exp] [--resume <runDir>] [--key=value ...]' },
};
