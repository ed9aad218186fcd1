import path from 'node:path';
import { ConfigError, initBackend, loadModel, parseArgs, readRunArgs } from '@cv/engine';
import { ClassifyTrainSchema } from '@cv/tasks-classify';
import { z } from 'zod';
import { runCli } from './cli';
import { loadDatasetFor } from './data';
import { evaluateAndReport, readHistory } from './evaluate';

const ValSchema = z.object({
  run: z.string().optional().describe('run directory written by classify:train'),
  model: z.string().optional().describe('model directory (default <run>/model)'),
});

async function main(argv: string[]): Promise<void> {
  const { config } = parseArgs(ValSchema, argv);
  if (!config.run) throw new ConfigError('classify:val needs --run runs/classify/<name>');
  const args = ClassifyTrainSchema.parse(Object.fromEntries(Object.entries(readRunArgs(config.run)).filter(([k]) => k !== 'backend' && k !== 'kernels')));
  const backend = await initBackend();
  const model = await loadModel(config.model ?? path.join(config.run, 'model'));
  const dataset = await loadDatasetFor(args);
  const history = readHistory(config.run);
  const report = await evaluateAndReport(model, dataset.test, config.run, {
    backend: backend.name, epochs: history.length, dataset: dataset.name, model: args.model, split: dataset.splitDescription,
  });
  console.log(`test accuracy: ${(100 * report.accuracy).toFixed(2)} % (top-5 ${(100 * report.top5Accuracy).toFixed(2)} %) on ${report.testImages} images`);
  console.log(`wrote ${path.join(config.run, 'report.json')}, report.md, plots/training_curves.png, plots/confusion_matrix.png`);
}

runCli(main, { schema: ValSchema, usage: 'usage: nx run classify:val -- --run runs/classify/<name>' });
