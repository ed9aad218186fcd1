import fs from 'node:fs';
import path from 'node:path';
import { loadClassificationDataset, writePng } from '@cv/data';
import { ConfigError, loadModel, type PredictDefinition, type TaskModes, type ValDefinition, writeFileAtomic } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { z } from 'zod';
import { dcganTask, judgeDir } from './definition';
import { GeneratorEvaluator, type GeneratorScores } from './evaluate';
import './predict'; // registers the generator's Predictor for loadPredictor
import type { GanPredictor, Samples } from './predictor';
import { ganMarkdown } from './report';
import { generatorDir } from './sample';
import { imageGrid } from './sampling';

const drawKeys = {
  seed: z.number().int().min(0).default(1).describe('seed of the latent vectors'),
  class: z.number().int().min(0).optional().describe('class-conditional generators: draw this class only'),
};

const ValSchema = z.object({
  n: z.number().int().positive().default(1000).describe('samples drawn and scored'),
  evalClassifier: z
    .string()
    .default('auto')
    .describe("the judging classifier: a classify model folder, or 'auto' (models/classify/<dataset> of the generator's dataset)"),
  ...drawKeys,
});

interface Judged {
  judge: GeneratorEvaluator;
  folder: string;
}

/**
 * `dcgan:val`: draws `--n` samples and scores them with a classifier of the generator's dataset — FID against the
 * real training images (and the real-vs-real floor at that sample size), mean confidence and class entropy:
 * the metrics training logs per epoch.
 */
export const dcganVal: ValDefinition<typeof ValSchema, GanPredictor, Judged, GeneratorScores & { samples: Samples }> = {
  command: 'dcgan:val',
  task: 'dcgan',
  schema: ValSchema,
  modelDir: (cfg) => {
    if (!cfg.model) throw new ConfigError('dcgan:val needs --model <generator folder or dcgan:train run>');
    return generatorDir(cfg.model);
  },
  async data({ cfg, predictor }) {
    const meta = predictor.metadata;
    const folder = judgeDir(cfg.evalClassifier, meta.dataset);
    if (!folder) throw new ConfigError(`no classifier of '${meta.dataset}' to judge samples with; pass --eval-classifier <classify model folder>`);
    const dataset = await loadClassificationDataset(meta.dataset, { size: meta.imageShape[0], channels: meta.imageShape[2] as 1 | 3 });
    return { judge: new GeneratorEvaluator(await loadModel(folder), dataset.train, dataset.test), folder };
  },
  evaluate({ judge }, { cfg, predictor }) {
    const samples = predictor.sample({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class });
    return { ...judge.score(samples.images), samples };
  },
  lines: (r, { folder }) => [
    `FID ${r.fid.toFixed(2)} (real-vs-real floor ${r.fidFloor.toFixed(2)}), mean confidence ${r.meanConfidence.toFixed(4)}, class entropy ${r.classEntropy.toFixed(4)} on ${r.samples.images.length / r.samples.shape.reduce((a, b) => a * b)} samples judged by ${folder}`,
  ],
  json: (r, { folder }) => ({ fid: r.fid, fidFloor: r.fidFloor, meanConfidence: r.meanConfidence, classEntropy: r.classEntropy, judge: folder }),
  async report(dir, r, { folder }, { cfg, predictor, runtime }) {
    const meta = predictor.metadata;
    const n = Math.min(64, cfg.n);
    const grid = imageGrid(r.samples.images.subarray(0, n * r.samples.shape.reduce((a, b) => a * b)), r.samples.shape, Math.ceil(Math.sqrt(n)));
    fs.mkdirSync(path.join(dir, 'plots'), { recursive: true });
    await writePng(path.join(dir, 'plots', 'samples.png'), grid.pixels, grid.shape);
    const json = { fid: r.fid, fidFloor: r.fidFloor, meanConfidence: r.meanConfidence, classEntropy: r.classEntropy, samples: cfg.n, seed: cfg.seed };
    const report = { ...json, model: cfg.model, dataset: meta.dataset, judge: folder, backend: runtime, epochs: meta.epochs, date: new Date().toISOString() };
    writeFileAtomic(path.join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileAtomic(path.join(dir, 'report.md'), ganMarkdown(report));
    return `report → ${path.join(dir, 'report.md')} (plots/samples.png)`;
  },
};

const PredictSchema = z.object({
  n: z.number().int().positive().default(16).describe('images to draw (or frames of the --interpolate strip)'),
  interpolate: z.boolean().default(false).describe('n frames along the great circle between the latent vectors of seeds --seed and --seed+1'),
  ...drawKeys,
});

/** `dcgan:predict`: n samples as PNGs (sample_000.png ...), a grid of them, and predictions.json (seed, index, class). */
export const dcganPredict: PredictDefinition<typeof PredictSchema, GanPredictor, number, { image: Float32Array; label?: number }> = {
  command: 'dcgan:predict',
  task: 'dcgan',
  schema: PredictSchema,
  needsOut: true,
  noun: 'sample',
  modelDir: generatorDir,
  sources: ({ cfg }) => Array.from({ length: cfg.n }, (_, i) => `sample_${String(i).padStart(3, '0')}`),
  read: (source) => Number(source.slice('sample_'.length)),
  // One draw of all n (the latent vectors of a seed are one stream), split per sample.
  batchSize: ({ cfg }) => cfg.n,
  predict(indices, { cfg, predictor }) {
    const s = predictor.sample({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class, interpolate: cfg.interpolate });
    const size = s.shape.reduce((a, b) => a * b);
    return indices.map((i) => ({ image: s.images.subarray(i * size, (i + 1) * size), label: s.labels?.[i] }));
  },
  rows: (source, o, index, { cfg, predictor }) => [
    { file: `${source}.png`, index, seed: cfg.seed, ...(o.label !== undefined ? { class: predictor.metadata.classNames[o.label] } : {}) },
  ],
  line: (r) => String(r.file),
  async write(dir, source, _i, o, { predictor }) {
    const shape = predictor.metadata.imageShape;
    const grid = imageGrid(o.image, shape, 1, 0); // one image, no frame
    await writePng(path.join(dir, `${source}.png`), grid.pixels, grid.shape);
  },
  async finish(dir, rows, { cfg, predictor }) {
    const shape = predictor.metadata.imageShape;
    const s = predictor.sample({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class, interpolate: cfg.interpolate });
    const grid = imageGrid(s.images, shape, cfg.interpolate ? cfg.n : Math.ceil(Math.sqrt(rows.length)));
    await writePng(path.join(dir, 'grid.png'), grid.pixels, grid.shape);
  },
};

/** The DCGAN task in every mode (`apps/dcgan`: `runMode(dcgan, 'val')`). */
export const dcgan: TaskModes = {
  name: 'dcgan',
  setup: registerRegularizationLayers,
  train: dcganTask,
  val: dcganVal,
  predict: dcganPredict,
  usage: {
    train: 'nx run dcgan:train -- [--dataset mnist] [--epochs 30] [--conditional] [--out <runDir>]',
    val: 'nx run dcgan:val -- --model <generator dir | run dir> [--n 1000] [--eval-classifier auto|<dir>] [--json out.json] [--out <dir>]',
    predict: 'nx run dcgan:predict -- --model <generator dir | run dir> --n 16 --out <dir> [--seed 1] [--class 3] [--interpolate]',
    export: 'nx run dcgan:export -- --model <generator dir> --out <dir> [--format tfjs|onnx]',
  },
};
