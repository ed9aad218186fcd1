import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, listImages } from '@cv/data';
import { type DecodedImage, nameList, need, type PredictDefinition, type TaskModes, type ValDefinition, writeFileAtomic } from '@cv/engine';
import { z } from 'zod';
import { type DetectionBox, toDetectionBox } from './answer';
import { EVAL_DEFAULTS, PREDICT_DEFAULTS, type Thresholds } from './defaults';
import { detectTask } from './definition';
import { drawBoxes } from './draw';
import {
  cocoImageIds,
  type DetectionShardPart,
  detectionLines,
  evaluateDetectionShard,
  evaluateDetectorOnFiles,
  type FileEvaluation,
  mergeDetectionShards,
  readCocoFile,
  readCocoImages,
  writeFileEvaluationReport,
} from './files';
import './predict'; // registers the detector's Predictor for loadPredictor
import type { DetectedObject, DetectionPredictor } from './predictor';

const thresholdKeys = (d: Thresholds) => ({
  conf: z.number().min(0).max(1).default(d.conf).describe('score threshold'),
  iou: z.number().min(0).max(1).default(d.iou).describe('NMS IoU threshold'),
  maxDet: z.number().int().positive().default(d.maxDet).describe('detections kept per image'),
});
const classesKey = {
  classes: z.string().optional().describe('class names of an ONNX detector whose metadata has none: a comma list or a text file (one per line)'),
};

/**
 * An Ultralytics ONNX detector: `--classes` names its classes when its metadata does not; with a COCO file, its
 * class indices map to that file's category ids by name (COCO's 80 classes → ids 1..90).
 */
const prepared = new WeakSet<DetectionPredictor>();
function prepareOnnxDetector(predictor: DetectionPredictor, classes: string | undefined, gt?: () => { categories?: { id: number; name: string }[] }): void {
  if (prepared.has(predictor)) return;
  prepared.add(predictor);
  if (classes) predictor.setClassNames(nameList(classes));
  const meta = predictor.metadata;
  const categories = meta.layout && meta.layout !== 'suite' ? gt?.().categories : undefined;
  if (!categories?.length) return;
  const byName = new Map(categories.map((c) => [c.name, c.id]));
  if (meta.classNames.every((n) => byName.has(n))) meta.categoryIds = meta.classNames.map((n) => byName.get(n)!);
}

const ValSchema = z.object({
  data: z.string().optional().describe('COCO JSON of the images to score'),
  images: z.string().optional().describe('folder of its images (default <data folder>/images)'),
  ...thresholdKeys(EVAL_DEFAULTS),
  ...classesKey,
});
type ValData = ReturnType<typeof readCocoImages>;

/** `detect:val`: COCOeval of the detector on a COCO set, printed as pycocotools prints it, with a per-class table. */
export const detectVal: ValDefinition<typeof ValSchema, DetectionPredictor, ValData, FileEvaluation> = {
  command: 'detect:val',
  task: 'detect',
  schema: ValSchema,
  data: ({ cfg }) => readCocoImages(need(cfg.data, 'detect:val needs --data <annotations.json>'), cfg.images),
  evaluate: ({ gt, files }, { cfg, predictor }) => {
    prepareOnnxDetector(predictor, cfg.classes, () => gt);
    return evaluateDetectorOnFiles(predictor, gt, files, cfg);
  },
  lines: (r, { files }) => detectionLines(r, files.length),
  // The error breakdown reads every detection's box, which a queued run's merge does not have: it is in the printed
  // lines and report.md of a one-process run, and the JSON (the same for both) carries the rest of the analysis.
  json: (r) => ({ stats: r.stats, perCategory: r.perCategory, extended: r.extended && { ...r.extended, errors: undefined } }),
  report: (dir, r, { gt, files }, { cfg }) => writeFileEvaluationReport(dir, r, gt, files, { model: cfg.model, dataset: cfg.data }),
  shards: {
    count: ({ files }) => files.length,
    evaluate: ({ gt, files }, items, { cfg, predictor }) => {
      prepareOnnxDetector(predictor, cfg.classes, () => gt);
      return evaluateDetectionShard(predictor, gt, files, items, cfg);
    },
    merge: (parts, { gt }) => mergeDetectionShards(parts as DetectionShardPart[], gt),
  },
};

const PredictSchema = z.object({
  data: z.string().optional().describe('COCO JSON whose image ids results.json uses (matched by file name)'),
  ...thresholdKeys(PREDICT_DEFAULTS),
  ...classesKey,
});

/** `detect:predict`: boxes drawn on each image, predictions.json (xywh boxes) and COCO results.json. */
export const detectPredict: PredictDefinition<typeof PredictSchema, DetectionPredictor, DecodedImage, DetectedObject[]> = {
  command: 'detect:predict',
  task: 'detect',
  schema: PredictSchema,
  needsOut: true,
  noun: 'image',
  list: listImages,
  read: decodeImage,
  predict: (images, { predictor, cfg }) => {
    prepareOnnxDetector(predictor, cfg.classes, () => (cfg.data ? readCocoFile(cfg.data) : {}));
    return predictor.predictAsync(images, cfg);
  },
  rows: (image, objects) => [{ image, detections: objects.map(toDetectionBox) }],
  line: (row) => `${row.image}\t${(row.detections as unknown[]).length} detections`,
  summary: (rows) => `${rows.reduce((n, r) => n + (r.detections as unknown[]).length, 0)} detections`,
  write: (dir, source, _image, objects) => drawBoxes(sharp(source), objects, path.join(dir, `${path.parse(source).name}.png`)),
  finish(dir, rows, { cfg, predictor }) {
    const ids = cocoImageIds(
      rows.map((r) => String(r.image)),
      cfg.data ? readCocoFile(cfg.data) : undefined,
    );
    const results = rows.flatMap((r, i) =>
      (r.detections as DetectionBox[]).map((d) => ({
        image_id: ids[i],
        category_id: predictor.metadata.categoryIds[d.classIndex],
        bbox: d.box,
        score: d.score,
      })),
    );
    writeFileAtomic(path.join(dir, 'results.json'), JSON.stringify(results));
  },
};

/** The detection task in every mode (`apps/detect`: `runMode(detect, 'val')`). */
export const detect: TaskModes = {
  name: 'detect',
  train: detectTask,
  val: detectVal,
  predict: detectPredict,
  prune: true,
  usage: {
    train:
      'nx run detect:train -- --data <annotations.json> [--images <dir>] [--val-data <json>] [--model yolo-n] [--epochs N | --time <min>] [--out <runDir>]',
  },
};
