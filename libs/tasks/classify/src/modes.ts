import path from 'node:path';
import { decodeImage, listImages } from '@cv/data';
import { type DecodedImage, need, type PredictDefinition, readRunArgs, type TaskModes, type ValDefinition } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { z } from 'zod';
import { valDataset } from './data';
import { classifyTask } from './definition';
import './predict'; // registers the classifier's Predictor for loadPredictor
import type { ClassificationPredictor, Prediction } from './predictor';
import { classificationJson, type ClassifierEvaluation, classifyReportInfo, evaluateClassifier, writeClassificationReport } from './validator';

const ValSchema = z.object({ run: z.string().optional().describe('run directory written by classify:train (its report is rewritten)') });
type ValData = Awaited<ReturnType<typeof valDataset>>;

/** `classify:val`: the test report of a run's model (or of any classifier folder), with the same evaluation as training. */
export const classifyVal: ValDefinition<typeof ValSchema, ClassificationPredictor, ValData, ClassifierEvaluation> = {
  command: 'classify:val',
  task: 'classify',
  schema: ValSchema,
  modelDir(cfg) {
    if (cfg.model) return cfg.model;
    const run = need(cfg.run, 'classify:val needs --run runs/classify/<name> or --model <dir>');
    readRunArgs(run, 'classify:train'); // a folder that is not a run is named as such before its model is looked for
    return path.join(run, 'model');
  },
  outDir: (cfg) => cfg.run,
  data: ({ cfg, predictor }) => valDataset(cfg.run, predictor.metadata, cfg.model ?? cfg.run!),
  evaluate: ({ dataset }, { predictor }) => evaluateClassifier(predictor.model, dataset.test),
  lines: (r, _d, { runtime }) => [
    `test accuracy: ${(100 * r.accuracy).toFixed(2)} % (top-5 ${(100 * r.top5Accuracy).toFixed(2)} %) on ${r.images} images (${runtime})`,
  ],
  json: (r, d, ctx) => classificationJson(r, d.dataset.test, classifyReportInfo(d, ctx)),
  async report(dir, r, d, ctx) {
    await writeClassificationReport(ctx.predictor.model, d.dataset.test, dir, classifyReportInfo(d, ctx), r);
    return `wrote ${path.join(dir, 'report.json')}, report.md, plots/confusion_matrix.png${ctx.cfg.run ? ', plots/training_curves.png' : ''}`;
  },
};

const PredictSchema = z.object({ top: z.number().int().positive().default(3).describe('classes listed per image with --json') });

/** `classify:predict`: images of any size → classes ("<image>\t<label>\t<probability>", or JSON with the top k). */
export const classifyPredict: PredictDefinition<typeof PredictSchema, ClassificationPredictor, DecodedImage, Prediction> = {
  command: 'classify:predict',
  task: 'classify',
  schema: PredictSchema,
  noun: 'image',
  list: listImages,
  read: decodeImage,
  predict: (images, { predictor, cfg }) => predictor.predictAsync(images, cfg.top),
  rows: (image, p) => [{ image, ...p }],
  line: (r) => `${r.image}\t${r.label}\t${(r.probability as number).toFixed(4)}`,
};

/** The classification task in every mode (`apps/classify`: `runMode(classify, 'val')`). */
export const classify: TaskModes = {
  name: 'classify',
  setup: registerRegularizationLayers,
  train: classifyTask,
  val: classifyVal,
  predict: classifyPredict,
  prune: true,
};
