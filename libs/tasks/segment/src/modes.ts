import fs from 'node:fs';
import path from 'node:path';
import { decodeImage, listImages } from '@cv/data';
import { ConfigError, type DecodedImage, type PredictDefinition, type TaskModes, type ValDefinition } from '@cv/engine';
import { z } from 'zod';
import { type ClassMask, maskPairs } from './data';
import { segmentTask } from './definition';
import { maskPng, overlayPng } from './overlay';
import './predict'; // registers the segmenter's Predictor for loadPredictor
import type { SegmentationPredictor, SegmentationResult, SegmentOptions } from './predictor';
import { evaluateSegmenter, evaluationJson, type SegmentationEvaluation, writeSegmentationReport } from './validator';

const modeKeys = {
  mode: z
    .enum(['resize', 'whole', 'tiles'])
    .default('resize')
    .describe('resize: letterboxed to the training size; whole: at its own size; tiles: overlapping tiles'),
  tile: z.number().int().positive().optional().describe('tile side in pixels (tiles mode; default the training size)'),
  overlap: z.number().int().min(0).optional().describe('tile overlap in pixels (default a quarter tile)'),
};
const optionsOf = (cfg: { mode: SegmentOptions['mode']; tile?: number; overlap?: number }): SegmentOptions => ({
  mode: cfg.mode,
  tile: cfg.tile,
  overlap: cfg.overlap,
});

const ValSchema = z.object({
  images: z.string().optional().describe('folder of images'),
  masks: z.string().optional().describe('folder of their class-index mask PNGs (matched by file name)'),
  data: z.string().optional().describe('or a COCO segmentation JSON of the images'),
  maskAp: z.boolean().default(true).describe('also compute mask AP of the connected components (COCOeval segm)'),
  ...modeKeys,
});

type Items = { file: string; truth: () => ClassMask }[];

/** `segment:val`: mIoU, per-class IoU / Dice, pixel accuracy and mask AP of a segmenter at the images' own sizes. */
export const segmentVal: ValDefinition<typeof ValSchema, SegmentationPredictor, Items, SegmentationEvaluation> = {
  command: 'segment:val',
  task: 'segment',
  schema: ValSchema,
  data({ cfg, predictor }) {
    if (!cfg.images || !(cfg.masks || cfg.data)) throw new ConfigError('segment:val needs --images <dir> and --masks <dir> (or --data <coco json>)');
    const names = predictor.metadata.classNames;
    // The truth at the images' own sizes, read as each image is scored (COCO polygons / RLE through coco-ts-api).
    const src = cfg.masks ? { images: cfg.images, masks: cfg.masks } : { data: cfg.data!, images: cfg.images };
    const items: Items = maskPairs(src).pairs.map((p) => ({ file: p.image, truth: p.mask }));
    for (const it of items) {
      const t = it.truth();
      const bad = t.data.findIndex((v) => v >= names.length && v !== 255);
      if (bad >= 0)
        throw new ConfigError(
          `mask of '${it.file}' has value ${t.data[bad]}, but the model's classes are 0..${names.length - 1} (${names.join(', ')}); fix the mask`,
        );
    }
    return items;
  },
  evaluate: (items, { cfg, predictor }) => evaluateSegmenter(predictor, items, { options: optionsOf(cfg), withMaskAp: cfg.maskAp }),
  lines: (r) => [
    ...r.classNames.map((n, i) => `${n.padEnd(16)} IoU ${r.perClassIou[i]?.toFixed(4) ?? '  –   '}  Dice ${r.dice[i]?.toFixed(4) ?? '–'}`),
    ...(r.maskAp?.lines ?? []),
    `mIoU ${r.miou.toFixed(4)} (with background ${r.miouAll.toFixed(4)}), pixel accuracy ${r.pixelAccuracy.toFixed(4)} on ${r.images} images`,
  ],
  json: evaluationJson,
  async report(dir, r, items, { cfg, predictor }) {
    const truthByFile = new Map(items.map((it) => [it.file, it.truth]));
    await writeSegmentationReport(
      dir,
      r,
      { model: cfg.model, dataset: cfg.masks ?? cfg.data },
      { predictor, truthOf: (f) => truthByFile.get(f)!(), options: optionsOf(cfg) },
    );
    return `report → ${path.join(dir, 'report.md')}`;
  },
};

const PredictSchema = z.object({
  alpha: z.number().min(0).max(1).default(0.5).describe('overlay opacity'),
  ...modeKeys,
});

/** `segment:predict`: a class-index PNG at each image's own size (masks/), a colour overlay with a legend (overlays/), class shares. */
export const segmentPredict: PredictDefinition<typeof PredictSchema, SegmentationPredictor, DecodedImage, SegmentationResult> = {
  command: 'segment:predict',
  task: 'segment',
  schema: PredictSchema,
  needsOut: true,
  noun: 'image',
  dirs: ['masks', 'overlays'],
  list: listImages,
  read: decodeImage,
  predict: (images, { predictor, cfg }) => predictor.predict(images, optionsOf(cfg)),
  rows: (source, r, _image, { predictor }) => [
    { file: path.basename(source), pixelShare: Object.fromEntries(predictor.metadata.classNames.map((n, i) => [n, +r.pixelShare[i].toFixed(5)])) },
  ],
  line: (row) => `${row.file}\t${JSON.stringify(row.pixelShare)}`,
  async write(dir, source, image, r, { predictor, cfg }) {
    const name = `${path.parse(source).name}.png`;
    fs.writeFileSync(path.join(dir, 'masks', name), await maskPng(r.mask, r.width, r.height));
    const overlay = await overlayPng(image, r.mask, predictor.metadata.classNames, { alpha: cfg.alpha, colours: predictor.metadata.colours });
    fs.writeFileSync(path.join(dir, 'overlays', name), overlay);
  },
};

/** The segmentation task in every mode (`apps/segment`: `runMode(segment, 'val')`). */
export const segment: TaskModes = {
  name: 'segment',
  train: segmentTask,
  val: segmentVal,
  predict: segmentPredict,
  prune: true,
  usage: {
    train:
      'nx run segment:train -- --images <dir> --masks <dir> | --data <coco json> [--val-images <dir> --val-masks <dir>] [--model unet-n] [--epochs N | --time <min>] [--out <runDir>]',
    val: 'nx run segment:val -- --model <dir> --images <dir> --masks <dir> [--json out.json] [--out <dir>]',
    predict: 'nx run segment:predict -- --model <dir> --images <dir> --out <dir> [--mode resize|whole|tiles]',
  },
};
