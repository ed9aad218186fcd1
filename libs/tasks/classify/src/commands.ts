import path from 'node:path';
import { decodeImage } from '@cv/data';
import { ConfigError, initBackend, loadPredictor, parseArgs, readHistory, readRunArgs } from '@cv/engine';
import { z } from 'zod';
import { ClassifyTrainSchema } from './config';
import { loadDatasetFor } from './data';
import { ClassificationPredictor } from './predict';
import { writeClassificationReport } from './validator';

export const ClassifyValSchema = z.object({
  run: z.string().optional().describe('run directory written by classify:train'),
  model: z.string().optional().describe('model directory (default <run>/model)'),
});

/** `classify:val`: the test report of a run's model, with the same Validator as training. */
export async function runClassifyVal(argv: string[]): Promise<void> {
  const { config } = parseArgs(ClassifyValSchema, argv);
  if (!config.run) throw new ConfigError('classify:val needs --run runs/classify/<name>');
  const { backend: _b, kernels: _k, ...saved } = readRunArgs(config.run, 'classify:train');
  const args = ClassifyTrainSchema.parse(saved);
  const backend = await initBackend();
  const predictor = await loadPredictor(config.model ?? path.join(config.run, 'model'));
  const dataset = await loadDatasetFor(args);
  const report = await writeClassificationReport(predictor.model, dataset.test, config.run, {
    backend: backend.name,
    epochs: readHistory(config.run).length,
    dataset: dataset.name,
    model: args.model,
    split: dataset.splitDescription,
  });
  console.log(`test accuracy: ${(100 * report.accuracy).toFixed(2)} % (top-5 ${(100 * report.top5Accuracy).toFixed(2)} %) on ${report.testImages} images`);
  console.log(`wrote ${path.join(config.run, 'report.json')}, report.md, plots/training_curves.png, plots/confusion_matrix.png`);
}

export const ClassifyPredictSchema = z.object({
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
  const predictor = await loadPredictor(config.model);
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
