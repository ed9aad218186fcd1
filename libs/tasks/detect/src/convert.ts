import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseArgs, writeFileAtomic } from '@cv/engine';
import { z } from 'zod';
import { cocoToYolo, yoloToCoco } from './yolo-format';

export const DetectConvertSchema = z.object({
  from: z.enum(['coco', 'yolo']).optional().describe('input format'),
  data: z.string().optional().describe('COCO JSON (--from coco) or dataset YAML (--from yolo)'),
  images: z.string().optional().describe('COCO images folder (default <data folder>/images)'),
  split: z.string().default('train').describe('split to write (coco → yolo) or read (yolo → coco)'),
  out: z.string().optional().describe('output: a folder (coco → yolo) or a JSON file (yolo → coco)'),
});

/** `detect:convert`: COCO ⇄ YOLO txt datasets. */
export async function runDetectConvert(argv: string[]): Promise<void> {
  const { config } = parseArgs(DetectConvertSchema, argv);
  if (!config.from || !config.data || !config.out) throw new ConfigError('detect:convert needs --from coco|yolo --data <file> --out <path>');
  if (config.from === 'coco') {
    if (!fs.existsSync(config.data)) throw new ConfigError(`COCO file '${config.data}' does not exist`);
    const r = cocoToYolo(config.data, config.images ?? path.join(path.dirname(config.data), 'images'), config.out, config.split);
    console.log(`wrote ${config.out}: ${r.images} images, ${r.labels} labels, data.yaml`);
  } else {
    const { coco } = await yoloToCoco(config.data, config.split);
    writeFileAtomic(config.out, JSON.stringify(coco));
    console.log(`wrote ${config.out}: ${coco.images.length} images, ${coco.annotations.length} annotations, ${coco.categories.length} categories`);
  }
}
