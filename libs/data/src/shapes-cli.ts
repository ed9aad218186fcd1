/**
 * Writes a `shapes` set (images/, masks/, annotations.json):
 *
 *   npx nx run data:shapes -- --out datasets/shapes/train --n 3000 --seed 1
 *   npx nx run data:shapes -- --out datasets/shapes-hard/train --n 3000 --seed 1 --hard
 */
import cliProgress from 'cli-progress';
import { ConfigError, parseArgs, runCli } from '@cv/engine';
import { z } from 'zod';
import { writeShapes } from './shapes';

const ShapesSchema = z.object({
  out: z.string().optional().describe('output folder (must not exist or be empty)'),
  n: z.number().int().positive().default(3000).describe('images'),
  seed: z.number().int().min(0).default(1).describe('seed (image i of a seed is the same for any --n)'),
  hard: z
    .boolean()
    .default(false)
    .describe('the hard variant: 6 classes, sizes 160–320, textured backgrounds, occlusion, crowds, empty images (libs/data/src/shapes-hard.ts)'),
});

runCli(
  async (argv) => {
    const { config } = parseArgs(ShapesSchema, argv);
    if (!config.out) throw new ConfigError('data:shapes needs --out <dir>');
    const bar = new cliProgress.SingleBar(
      { format: 'shapes |{bar}| {value}/{total}', noTTYOutput: true, notTTYSchedule: 5000 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(config.n, 0);
    const started = performance.now();
    let coco;
    try {
      coco = await writeShapes(config.out, { n: config.n, seed: config.seed, hard: config.hard, onProgress: (done) => bar.update(done) });
    } catch (e) {
      bar.stop();
      throw new ConfigError((e as Error).message);
    }
    bar.stop();
    const perClass = coco.categories.map((c) => `${c.name} ${coco.annotations.filter((a) => a.category_id === c.id).length}`).join(', ');
    console.log(
      `wrote ${config.out}: ${coco.images.length} images, ${coco.annotations.length} objects (${perClass}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  },
  { schema: ShapesSchema, usage: 'usage: nx run data:shapes -- --out <dir> [--n 3000] [--seed 1] [--hard]' },
);
