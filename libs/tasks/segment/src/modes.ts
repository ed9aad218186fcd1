import path from 'node:path';
import { decodeImage, listImages } from '@cv/data';
import type { DecodedImage, PredictDefinition, TaskModes, ValDefinition } from '@cv/engine';
import { z } from 'zod';
import { segmentTask } from './definition';
import { segmentModeKeys, segmentOptions, type TruthItems, truthItems, writeMaskFiles } from './files';
import './predict'; // registers the segmenter's Predictor for loadPredictor
import type { SegmentationPredictor, SegmentationResult } from './predictor';
import {
  evaluateSegmenter,
  evaluateSegmenterShard,
  evaluationJson,
  mergeSegmenterShards,
  type SegmentationEvaluation,
  type SegmentationShardPart,
  writeSegmentationReport,
} from './validator';

const ValSchema = z.object({
  images: z.string().optional().describe('folder of images'),
  masks: z.string().optional().describe('folder of their class-index mask PNGs (matched by file name)'),
  data: z.string().optional().describe('or a COCO segmentation JSON of the images'),
  maskAp: z.boolean().default(true).describe('also compute mask AP of the connected components (COCOeval segm)'),
  ...segmentModeKeys,
});

/** `segment:val`: mIoU, per-class IoU / Dice, pixel accuracy and mask AP of a segmenter at the images' own sizes. */
export const segmentVal: ValDefinition<typeof ValSchema, SegmentationPredictor, TruthItems, SegmentationEvaluation> = {
  command: 'segment:val',
  task: 'segment',
  schema: ValSchema,
  data: ({ cfg, predictor }) => truthItems(cfg, predictor.metadata.classNames),
  evaluate: (items, { cfg, predictor }) => evaluateSegmenter(predictor, items, { options: segmentOptions(cfg), withMaskAp: cfg.maskAp }),
  lines: (r) => [
    ...r.classNames.map((n, i) => `${n.padEnd(16)} IoU ${r.perClassIou[i]?.toFixed(4) ?? '  –   '}  Dice ${r.dice[i]?.toFixed(4) ?? '–'}`),
    ...(r.maskAp?.lines ?? []),
    `mIoU ${r.miou.toFixed(4)} (with background ${r.miouAll.toFixed(4)}), pixel accuracy ${r.pixelAccuracy.toFixed(4)} on ${r.images} images`,
  ],
  json: evaluationJson,
  async report(dir, r, items, { cfg, predictor }) {
    const byFile = new Map(items.map((it) => [it.file, it.truth]));
    const truthOf = (f: string) => byFile.get(f)!();
    await writeSegmentationReport(dir, r, { model: cfg.model, dataset: cfg.masks ?? cfg.data }, { predictor, truthOf, options: segmentOptions(cfg) });
    return `report → ${path.join(dir, 'report.md')}`;
  },
  shards: {
    count: (items) => items.length,
    evaluate: (items, indices, { cfg, predictor }) =>
      evaluateSegmenterShard(predictor, items, indices, { options: segmentOptions(cfg), withMaskAp: cfg.maskAp }),
    merge: (parts, _items, { predictor }) => mergeSegmenterShards(parts as SegmentationShardPart[], predictor.metadata.classNames),
  },
};

const PredictSchema = z.object({ alpha: z.number().min(0).max(1).default(0.5).describe('overlay opacity'), ...segmentModeKeys });

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
  predict: (images, { predictor, cfg }) => predictor.predictAsync(images, segmentOptions(cfg)),
  rows: (file, r, _image, { predictor }) => [
    { file: path.basename(file), pixelShare: Object.fromEntries(predictor.metadata.classNames.map((n, i) => [n, +r.pixelShare[i].toFixed(5)])) },
  ],
  line: (row) => `${row.file}\t${JSON.stringify(row.pixelShare)}`,
  write: (dir, file, image, r, { predictor, cfg }) => writeMaskFiles(dir, file, image, r, predictor, cfg.alpha),
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
      'nx run segment:train -- --images <dir> --masks <dir> | --data <coco json> [--val-images <dir> --val-masks <dir>] [--model unet-t] [--epochs N | --time <min>] [--out <runDir>]',
  },
};
