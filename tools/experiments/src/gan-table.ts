/**
 * Prints a dcgan:train run's per-epoch metrics as a Markdown table (for docs/results), marking the
 * last epoch that ended within a wall-clock budget.
 *
 *   npx nx run experiments:gan-table -- --run runs/dcgan/default [--budget-min 30]
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseArgs, runCli } from '@cv/engine';
import { z } from 'zod';

const Schema = z.object({
  run: z.string().describe('a dcgan:train run folder'),
  budgetMin: z.number().positive().default(30).describe('wall-clock budget in minutes; the last epoch inside it is marked'),
});

runCli(
  async (argv) => {
    const { config } = parseArgs(Schema, argv);
    const file = path.join(config.run, 'metrics.jsonl');
    if (!fs.existsSync(file)) throw new ConfigError(`--run '${config.run}' has no metrics.jsonl; pass a folder written by dcgan:train`);
    const rows = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const inBudget = rows.filter((r) => r.time <= config.budgetMin * 60).length;
    const f = (v: number | undefined, d: number) => (v === undefined ? '–' : v.toFixed(d));
    console.log('| epoch | minutes | d_loss | g_loss | D(x) | D(G(z)) | FID | confidence | class entropy |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    rows.forEach((r, i) => {
      const mark = i === inBudget - 1 ? ' ◀' : '';
      console.log(
        `| ${r.epoch}${mark} | ${f(r.time / 60, 1)} | ${f(r.d_loss, 3)} | ${f(r.g_loss, 3)} | ${f(r.d_real, 3)} | ${f(r.d_fake, 3)} | ${f(r.fid, 1)} | ${f(r.confidence, 3)} | ${f(r.class_entropy, 3)} |`,
      );
    });
    if (inBudget) console.log(`\n◀ last epoch that ended within ${config.budgetMin} minutes.`);
  },
  { schema: Schema, usage: 'usage: nx run experiments:gan-table -- --run <runDir> [--budget-min 30]' },
);
