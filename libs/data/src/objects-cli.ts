/**
 * Writes an `objects` image folder (textured RGB images, one large object whose outline is the class):
 *
 *   npx nx run data:objects -- --out datasets/objects-pretrain --family pretrain --train 8000 --test 800 --size 96
 */
import cliProgress from 'cli-progress';
import { ConfigError, parseArgs, runCli } from '@cv/engine';
import { z } from 'zod';
import { OBJECT_FAMILIES, writeObjects, writeObjectsDetection } from './objects';

const ObjectsSchema = z.object({
  out: z.string().optional().describe('output folder (must not exist or be empty)'),
  family: z
    .enum(Object.keys(OBJECT_FAMILIES) as [string, ...string[]])
    .default('pretrain')
    .describe(
      `outline family: ${Object.entries(OBJECT_FAMILIES)
        .map(([k, v]) => `${k} (${v.join(', ')})`)
        .join('; ')}`,
    ),
  train: z.number().int().positive().default(8000).describe('training images'),
  test: z.number().int().positive().default(800).describe('test images'),
  size: z.number().int().min(32).default(96).describe('image size (square)'),
  seed: z.number().int().min(0).default(1).describe('seed (image i of a seed is the same for any count)'),
  detection: z
    .boolean()
    .default(false)
    .describe('write a COCO detection set instead (images/ + annotations.json, --train images): 1–5 labelled objects per scene'),
});

runCli(
  async (argv) => {
    const { config } = parseArgs(ObjectsSchema, argv);
    if (!config.out) throw new ConfigError('data:objects needs --out <dir>');
    if (config.detection) {
      const { classes, objects } = await writeObjectsDetection(config.out, { family: config.family, n: config.train, seed: config.seed, size: config.size });
      console.log(`wrote ${config.train} scenes with ${objects} objects of ${classes.length} classes (${classes.join(', ')}) to ${config.out}`);
      return;
    }
    const bar = new cliProgress.SingleBar(
      { format: 'objects |{bar}| {value}/{total}', noTTYOutput: true, notTTYSchedule: 5000 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(config.train + config.test, 0);
    try {
      const { classes } = await writeObjects(config.out, { ...config, onProgress: (d) => bar.update(d) });
      bar.stop();
      console.log(`wrote ${config.train} + ${config.test} images of ${classes.length} classes (${classes.join(', ')}) to ${config.out}`);
    } finally {
      bar.stop();
    }
  },
  { schema: ObjectsSchema, usage: 'usage: nx run data:objects -- --out <dir> [--family pretrain|downstream] [--train 8000] [--test 800] [--size 96]' },
);
