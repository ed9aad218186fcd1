/**
 * Writes a seeded `waves` CSV for the sequence task (one series per row, a `label` column):
 *
 *   npx nx run data:waves -- --out datasets/waves.csv --n 3000 --seed 1
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseArgs, runCli, writeFileAtomic } from '@cv/engine';
import { z } from 'zod';
import { generateWaves, WAVE_CLASSES, wavesCsv } from './waves';

const WavesSchema = z.object({
  out: z.string().optional().describe('output CSV file'),
  n: z.number().int().positive().default(3000).describe('series'),
  seed: z.number().int().min(0).default(1).describe('seed (series i of a seed is the same for any --n)'),
});

runCli(
  async (argv) => {
    const { config } = parseArgs(WavesSchema, argv);
    if (!config.out) throw new ConfigError('data:waves needs --out <file.csv>');
    fs.mkdirSync(path.dirname(path.resolve(config.out)), { recursive: true });
    writeFileAtomic(config.out, wavesCsv(generateWaves(config.n, config.seed)));
    console.log(`wrote ${config.n} series (${WAVE_CLASSES.join(', ')}; 40–120 steps) to ${config.out}`);
  },
  { schema: WavesSchema, usage: 'usage: nx run data:waves -- --out <file.csv> [--n 3000] [--seed 1]' },
);
