import { readImage } from '@cv/data';
import { ConfigError, initBackend, loadModel, parseArgs } from '@cv/engine';
import { ClassificationPredictor } from '@cv/tasks-classify';
import { z } from 'zod';
import { runCli } from './cli';

const PredictSchema = z.object({
  model: z.string().optional().describe('model directory (model.json + weights), e.g. runs/classify/exp/model'),
  json: z.boolean().default(false).describe('print a JSON array instead of lines'),
  topK: z.number().int().positive().default(3).describe('classes listed per image with --json'),
});

async function main(argv: string[]): Promise<void> {
  const { config, positionals } = parseArgs(PredictSchema, argv, { allowPositionals: true });
  if (!config.model) throw new ConfigError('classify:predict needs --model <dir> and one or more images');
  if (positionals.length === 0) throw new ConfigError('classify:predict needs at least one image path after the options');
  await initBackend({ log: (line) => console.error(line) });
  const predictor = new ClassificationPredictor(await loadModel(config.model));
  const [h, , c] = predictor.metadata.inputShape;
  const images = [];
  for (const file of positionals) images.push(await readImage(file, { size: h, channels: c as 1 | 3 }));
  const predictions = predictor.predict(images, config.topK);
  if (config.json) {
    console.log(JSON.stringify(positionals.map((image, i) => ({ image, ...predictions[i] })), null, 2));
  } else {
    positionals.forEach((image, i) => console.log(`${image}\t${predictions[i].label}\t${predictions[i].probability.toFixed(4)}`));
  }
}

runCli(main, { schema: PredictSchema, usage: 'usage: nx run classify:predict -- --model <dir> image.png [image2.jpg ...]' });
