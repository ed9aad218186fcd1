import fs from 'node:fs';
import path from 'node:path';
import { decodeImage, listImages } from '@cv/data';
import { ConfigError, initBackend, type LoadOptions, loadPredictor, parseArgs, runtimeKeys, writeFileAtomic } from '@cv/engine';
import { z } from 'zod';
import { type ClassMask, maskPairs } from './data';
import { maskPng, overlayPng } from './overlay';
import { SegmentationPredictor, type SegmentOptions } from './predict';
import { evaluateSegmenter, evaluationJson, writeSegmentationReport } from './validator';

async function segmenter(model: string | undefined, command: string, options: LoadOptions = {}): Promise<SegmentationPredictor> {
  if (!model) throw new ConfigError(`${command} needs --model <dir> (a segment:train run's model/ folder)`);
  const p = await loadPredictor(model, options);
  if (!(p instanceof SegmentationPredictor)) throw new ConfigError(`'${model}' is a ${p.task} model, not a segmenter; use ${p.task}:predict`);
  return p;
}

const modeKeys = {
  mode: z
    .enum(['resize', 'whole', 'tiles'])
    .default('resize')
    .describe('resize: letterboxed to the training size; whole: at its own size; tiles: overlapping tiles'),
  tile: z.number().int().positive().optional().describe('tile side in pixels (tiles mode; default the training size)'),
  overlap: z.number().int().min(0).optional().describe('tile overlap in pixels (default a quarter tile)'),
};

export const SegmentValSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe("segmenter folder (a segment:train run's model/)"),
  images: z.string().optional().describe('folder of images'),
  masks: z.string().optional().describe('folder of their class-index mask PNGs (matched by file name)'),
  data: z.string().optional().describe('or a COCO segmentation JSON of the images'),
  json: z.string().optional().describe('write {"miou", "miouAll", "perClassIou", "pixelAccuracy", "dice", ...} to this file'),
  out: z.string().optional().describe('folder for report.json, report.md and plots/'),
  maskAp: z.boolean().default(true).describe('also compute mask AP of the connected components (COCOeval segm)'),
  ...modeKeys,
});

/** `segment:val`: mIoU, per-class IoU / Dice, pixel accuracy and mask AP of a segmenter at the images' own sizes. */
export async function runSegmentVal(argv: string[]): Promise<void> {
  const { config } = parseArgs(SegmentValSchema, argv);
  if (!config.images || !(config.masks || config.data)) throw new ConfigError('segment:val needs --images <dir> and --masks <dir> (or --data <coco json>)');
  await initBackend({ log: (l) => console.error(l) });
  const p = await segmenter(config.model, 'segment:val', config);
  const names = p.metadata.classNames;
  // The truth at the images' own sizes, read as each image is scored (COCO polygons / RLE through coco-ts-api).
  const src = config.masks ? { images: config.images, masks: config.masks } : { data: config.data!, images: config.images };
  const items: { file: string; truth: () => ClassMask }[] = maskPairs(src).pairs.map((p) => ({ file: p.image, truth: p.mask }));
  for (const it of items) {
    const t = it.truth();
    const bad = t.data.findIndex((v) => v >= names.length && v !== 255);
    if (bad >= 0)
      throw new ConfigError(
        `mask of '${it.file}' has value ${t.data[bad]}, but the model's classes are 0..${names.length - 1} (${names.join(', ')}); fix the mask`,
      );
  }
  const options: SegmentOptions = { mode: config.mode, tile: config.tile, overlap: config.overlap };
  const r = await evaluateSegmenter(p, items, { options, withMaskAp: config.maskAp });
  for (let i = 0; i < names.length; i++)
    console.log(`${names[i].padEnd(16)} IoU ${r.perClassIou[i]?.toFixed(4) ?? '  –   '}  Dice ${r.dice[i]?.toFixed(4) ?? '–'}`);
  r.maskAp?.lines.forEach((l) => console.log(l));
  console.log(`mIoU ${r.miou.toFixed(4)} (with background ${r.miouAll.toFixed(4)}), pixel accuracy ${r.pixelAccuracy.toFixed(4)} on ${r.images} images`);
  if (config.json) writeFileAtomic(config.json, JSON.stringify(evaluationJson(r), null, 2) + '\n');
  if (config.out) {
    const truthByFile = new Map(items.map((it) => [it.file, it.truth]));
    await writeSegmentationReport(
      config.out,
      r,
      { model: config.model, dataset: config.masks ?? config.data },
      { predictor: p, truthOf: (f) => truthByFile.get(f)!(), options },
    );
    console.log(`report → ${path.join(config.out, 'report.md')}`);
  }
}

export const SegmentPredictSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe('segmenter folder'),
  images: z.string().optional().describe('folder of images (or one image file)'),
  out: z.string().optional().describe('folder for masks/ (class-index PNGs) and overlays/'),
  alpha: z.number().min(0).max(1).default(0.5).describe('overlay opacity'),
  ...modeKeys,
});

/** `segment:predict`: a class-index PNG at each image's own size (masks/) and a colour overlay with a legend (overlays/). */
export async function runSegmentPredict(argv: string[]): Promise<void> {
  const { config } = parseArgs(SegmentPredictSchema, argv);
  if (!config.images) throw new ConfigError('segment:predict needs --images <dir or image>');
  if (!config.out) throw new ConfigError('segment:predict needs --out <dir> for masks/ and overlays/');
  const files = listImages(config.images);
  await initBackend({ log: (l) => console.error(l) });
  const p = await segmenter(config.model, 'segment:predict', config);
  const options: SegmentOptions = { mode: config.mode, tile: config.tile, overlap: config.overlap };
  const tmp = `${config.out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'masks'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'overlays'), { recursive: true });
  const started = performance.now();
  let inference = 0;
  const summary: { file: string; pixelShare: Record<string, number> }[] = [];
  try {
    for (const f of files) {
      const img = await decodeImage(f);
      const [r] = p.predict([img], options);
      inference += p.timing.inference;
      const name = `${path.parse(f).name}.png`;
      fs.writeFileSync(path.join(tmp, 'masks', name), await maskPng(r.mask, r.width, r.height));
      fs.writeFileSync(
        path.join(tmp, 'overlays', name),
        await overlayPng(img, r.mask, p.metadata.classNames, { alpha: config.alpha, colours: p.metadata.colours }),
      );
      summary.push({ file: path.basename(f), pixelShare: Object.fromEntries(p.metadata.classNames.map((n, i) => [n, +r.pixelShare[i].toFixed(5)])) });
    }
    writeFileAtomic(path.join(tmp, 'predictions.json'), JSON.stringify(summary, null, 1));
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  fs.rmSync(config.out, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(path.resolve(config.out)), { recursive: true });
  fs.renameSync(tmp, config.out);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${files.length} images → ${config.out}/masks/ and overlays/; inference ${(inference / files.length).toFixed(2)} ms/image, ${(files.length / seconds).toFixed(1)} img/s end to end`,
  );
}
