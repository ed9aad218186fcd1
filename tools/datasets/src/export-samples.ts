/**
 * Writes test images of a built-in dataset as PNG files named `<index>_<label>.png`, to try
 * `classify:predict` on real held-out images:
 *
 *   npx nx run datasets:export-samples -- --dataset fashion-mnist --n 20 --out samples/fashion-mnist
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadClassificationDataset, writePng } from '@cv/data';
import { ConfigError, parseArgs } from '@cv/engine';
import { z } from 'zod';

const Schema = z.object({
  dataset: z.enum(['fashion-mnist', 'mnist']).default('fashion-mnist').describe('built-in dataset'),
  n: z.number().int().positive().max(10000).default(10).describe('images to write (spread over the test split)'),
  out: z.string().optional().describe('output folder'),
});

async function main(): Promise<void> {
  const { config } = parseArgs(Schema, process.argv.slice(2).filter((a) => a !== '--'));
  if (!config.out) throw new ConfigError('export-samples needs --out <folder>');
  const { test } = await loadClassificationDataset(config.dataset);
  fs.mkdirSync(config.out, { recursive: true });
  const step = Math.max(1, Math.floor(test.labels.length / config.n));
  const size = 28 * 28;
  for (let k = 0; k < config.n; k++) {
    const i = (k * step + k) % test.labels.length; // test images are interleaved by class: this cycles through classes
    const label = test.classNames[test.labels[i]].replace(/[^A-Za-z0-9-]+/g, '-');
    await writePng(path.join(config.out, `${String(i).padStart(5, '0')}_${label}.png`), test.images.subarray(i * size, (i + 1) * size), [28, 28, 1]);
  }
  console.log(`wrote ${config.n} ${config.dataset} test images to ${config.out}`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
});
