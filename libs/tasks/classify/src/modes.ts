import path from 'node:path';
import { decodeImage, listImages } from '@cv/data';
import { ConfigError, type DecodedImage, type PredictDefinition, readHistory, readRunArgs, type TaskModes, type ValDefinition } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { z } from 'zod';
import { type ClassifyTrainConfig, ClassifyTrainSchema } from './config';
import { loadDatasetFor } from './data';
import type { ClassificationDataset } from '@cv/data';
import { classifyTask } from './definition';
import './predict'; // registers the classifier's Predictor for loadPredictor
import type { ClassificationPredictor, Prediction } from './predictor';
import { classificationJson, type ClassifierEvaluation, evaluateClassifier, writeClassificationReport } from './validator';

const ValSchema = z.object({
  run: z.string().optional().describe('run directory written by classify:train (its report is rewritten)'),
});

type DataArgs = Pick<ClassifyTrainConfig, 'dataset' | 'imageSize' | 'channels' | 'classes' | 'model'>;

/** `classify:val`: the test report of a run's model (or of any classifier folder), with the same evaluation as training. */
export const classifyVal: ValDefinition<typeof ValSchema, ClassificationPredictor, { dataset: ClassificationDataset; args: DataArgs }, ClassifierEvaluation> = {
  command: 'classify:val',
  task: 'classify',
  schema: ValSchema,
  modelDir: (cfg) => {
    if (!cfg.run && !cfg.model) throw new ConfigError('classify:val needs --run runs/classify/<name> or --model <dir>');
    // A run's saved config first: a folder that is not a run is named as such before its model is looked for.
    if (cfg.run) readRunArgs(cfg.run, 'classify:train');
    return cfg.model ?? path.join(cfg.run!, 'model');
  },
  outDir: (cfg) => cfg.run,
  async data({ cfg, predictor }) {
    const meta = predictor.metadata;
    let args: DataArgs;
    if (cfg.run) {
      const { backend: _b, kernels: _k, ...saved } = readRunArgs(cfg.run, 'classify:train');
      args = ClassifyTrainSchema.parse(saved);
    } else {
      if (!meta.dataset) throw new ConfigError(`'${cfg.model}' names no dataset in its metadata; pass --run <run dir> to score it on that run's data`);
      args = { dataset: meta.dataset, imageSize: meta.inputShape[0], channels: meta.inputShape[2] as 1 | 3, classes: '', model: meta.model ?? 'model' };
    }
    const dataset = await loadDatasetFor(args);
    if (dataset.test.classNames.length !== meta.classNames.length) {
      throw new ConfigError(`'${cfg.model ?? cfg.run}' has ${meta.classNames.length} classes but ${dataset.name} has ${dataset.test.classNames.length}`);
    }
    return { dataset, args };
  },
  evaluate: ({ dataset }, { predictor }) => evaluateClassifier(predictor.model, dataset.test),
  lines: (r, _d, { runtime }) => [
    `test accuracy: ${(100 * r.accuracy).toFixed(2)} % (top-5 ${(100 * r.top5Accuracy).toFixed(2)} %) on ${r.images} images (${runtime})`,
  ],
  json: (r, d, ctx) => classificationJson(r, d.dataset.test, reportInfo(d, ctx)),
  async report(dir, r, d, ctx) {
    await writeClassificationReport(ctx.predictor.model, d.dataset.test, dir, reportInfo(d, ctx), r);
    return `wrote ${path.join(dir, 'report.json')}, report.md, plots/confusion_matrix.png${ctx.cfg.run ? ', plots/training_curves.png' : ''}`;
  },
};

function reportInfo(d: { dataset: ClassificationDataset; args: DataArgs }, { cfg, runtime }: { cfg: { run?: string }; runtime: string }) {
  return {
    backend: runtime,
    epochs: cfg.run ? readHistory(cfg.run).length : 0,
    dataset: d.dataset.name,
    model: d.args.model,
    split: d.dataset.splitDescription,
  };
}

const PredictSchema = z.object({
  topK: z.number().int().positive().default(3).describe('classes listed per image with --json'),
});

/** `classify:predict`: images of any size → classes ("<image>\t<label>\t<probability>", or JSON with the top k). */
export const classifyPredict: PredictDefinition<typeof PredictSchema, ClassificationPredictor, DecodedImage, Prediction> = {
  command: 'classify:predict',
  task: 'classify',
  schema: PredictSchema,
  noun: 'image',
  list: listImages,
  read: decodeImage,
  predict: (images, { predictor, cfg }) => predictor.predict(images, cfg.topK),
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
  usage: {
    val: 'nx run classify:val -- --run runs/classify/<name> | --model <dir> [--json out.json] [--out <dir>]',
    predict: 'nx run classify:predict -- --model <dir> image.png [image2.jpg ...] [--json] [--out <dir>]',
  },
};
