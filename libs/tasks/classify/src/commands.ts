import path from 'node:path';
import { decodeImage } from '@cv/data';
import { ConfigError, initBackend, loadPredictor, OnnxModel, parseArgs, readHistory, readRunArgs, runtimeKeys, writeFileAtomic } from '@cv/engine';
import { z } from 'zod';
import { type ClassifyTrainConfig, ClassifyTrainSchema } from './config';
import { loadDatasetFor } from './data';
import { ClassificationPredictor } from './predict';
import { classificationJson, evaluateClassifier, writeClassificationReport } from './validator';

export const ClassifyValSchema = z.object({
  run: z.string().optional().describe('run directory written by classify:train (its report is rewritten)'),
  model: z
    .string()
    .optional()
    .describe('model directory (default <run>/model): tfjs, quantized tfjs or ONNX; alone, it is scored on the test split of the dataset its metadata names'),
  ...runtimeKeys,
  json: z.string().optional().describe('also write the report JSON ({"accuracy", ...}) to this file'),
  out: z.string().optional().describe('with --model alone: write report.json / report.md / plots here'),
});

/** `classify:val`: the test report of a run's model (or of any classifier folder), with the same Validator as training. */
export async function runClassifyVal(argv: string[]): Promise<void> {
  const { config } = parseArgs(ClassifyValSchema, argv);
  if (!config.run && !config.model) throw new ConfigError('classify:val needs --run runs/classify/<name> or --model <dir>');
  const backend = await initBackend();
  // A run's saved config first: a folder that is not a run is named as such before its model is looked for.
  const runArgs = config.run ? ClassifyTrainSchema.parse((({ backend: _b, kernels: _k, ...saved }) => saved)(readRunArgs(config.run, 'classify:train'))) : null;
  const modelDir = config.model ?? path.join(config.run!, 'model');
  const predictor = await loadPredictor(modelDir, { runtime: config.runtime, threads: config.threads });
  if (!(predictor instanceof ClassificationPredictor))
    throw new ConfigError(`'${modelDir}' is a ${predictor.task} model, not a classifier; use ${predictor.task}:val`);
  let args: Pick<ClassifyTrainConfig, 'dataset' | 'imageSize' | 'channels' | 'classes' | 'model'>;
  if (runArgs) {
    args = runArgs;
  } else {
    const meta = predictor.metadata;
    if (!meta.dataset) throw new ConfigError(`'${modelDir}' names no dataset in its metadata; pass --run <run dir> to score it on that run's data`);
    args = { dataset: meta.dataset, imageSize: meta.inputShape[0], channels: meta.inputShape[2] as 1 | 3, classes: '', model: meta.model ?? 'model' };
  }
  const dataset = await loadDatasetFor(args);
  if (dataset.test.classNames.length !== predictor.metadata.classNames.length) {
    throw new ConfigError(`'${modelDir}' has ${predictor.metadata.classNames.length} classes but ${dataset.name} has ${dataset.test.classNames.length}`);
  }
  const outDir = config.run ?? config.out;
  const info = {
    backend: predictor.model instanceof OnnxModel ? 'onnxruntime' : backend.name,
    epochs: config.run ? readHistory(config.run).length : 0,
    dataset: dataset.name,
    model: args.model,
    split: dataset.splitDescription,
  };
  const report = outDir
    ? await writeClassificationReport(predictor.model, dataset.test, outDir, info)
    : classificationJson(evaluateClassifier(predictor.model, dataset.test), dataset.test, info);
  if (config.json) writeFileAtomic(config.json, JSON.stringify({ ...report, modelDir, runtime: info.backend }, null, 2));
  console.log(
    `test accuracy: ${(100 * report.accuracy).toFixed(2)} % (top-5 ${(100 * report.top5Accuracy).toFixed(2)} %) on ${report.testImages} images (${info.backend})`,
  );
  if (outDir) console.log(`wrote ${path.join(outDir, 'report.json')}, report.md, plots/confusion_matrix.png${config.run ? ', plots/training_curves.png' : ''}`);
  if (config.json) console.log(`wrote ${config.json}`);
}

export const ClassifyPredictSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe('model directory (model.json + weights), e.g. runs/classify/exp/model'),
  json: z.boolean().default(false).describe('print a JSON array instead of lines'),
  topK: z.number().int().positive().default(3).describe('classes listed per image with --json'),
});

/** `classify:predict`: images of any size → classes, through the task's Predictor. */
export async function runClassifyPredict(argv: string[]): Promise<void> {
  const { config, positionals } = parseArgs(ClassifyPredictSchema, argv, { allowPositionals: true });
  if (!config.model) throw new ConfigError('classify:predict needs --model <dir> and one or more images');
  if (positionals.length === 0) throw new ConfigError('classify:predict needs at least one image path after the options');
  await initBackend({ log: (line) => console.error(line) });
  const predictor = await loadPredictor(config.model, config);
  if (!(predictor instanceof ClassificationPredictor))
    throw new ConfigError(`'${config.model}' is a ${predictor.task} model, not a classifier; use ${predictor.task}:predict`);
  const images = [];
  for (const file of positionals) images.push(await decodeImage(file));
  const predictions = predictor.predict(images, config.topK);
  if (config.json) {
    console.log(
      JSON.stringify(
        positionals.map((image, i) => ({ image, ...predictions[i] })),
        null,
        2,
      ),
    );
  } else {
    positionals.forEach((image, i) => console.log(`${image}\t${predictions[i].label}\t${predictions[i].probability.toFixed(4)}`));
  }
}
