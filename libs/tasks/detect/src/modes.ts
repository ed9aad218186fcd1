import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, listImages } from '@cv/data';
import { ConfigError, type DecodedImage, type PredictDefinition, type TaskModes, type ValDefinition, writeFileAtomic } from '@cv/engine';
import type { CocoDataset, CocoResult } from 'coco-ts-api';
import { z } from 'zod';
import { type DetectionBox, toDetectionBox } from './answer';
import { EVAL_DEFAULTS, MATCHING_DEFAULTS, PREDICT_DEFAULTS } from './defaults';
import { detectTask } from './definition';
import { drawBoxes } from './draw';
import { writeErrorReports } from './error-analysis';
import './predict'; // registers the detector's Predictor for loadPredictor
import type { DetectedObject, DetectionPredictor } from './predictor';
import { evaluateDetections, plotDetectionCurves, toCocoResults, writeDetectionReport, type DetectionEvaluation } from './validator';

const thresholdKeys = (d: typeof PREDICT_DEFAULTS) => ({
  conf: z.number().min(0).max(1).default(d.conf).describe('score threshold'),
  iou: z.number().min(0).max(1).default(d.iou).describe('NMS IoU threshold'),
  maxDet: z.number().int().positive().default(d.maxDet).describe('detections kept per image'),
});

function readCocoFile(file: string): CocoDataset {
  if (!fs.existsSync(file)) throw new ConfigError(`COCO file '${file}' does not exist; pass --data <annotations.json>`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CocoDataset;
}

/** COCO image ids of files, by file name in the COCO file (else 1..N in file order). */
function imageIds(files: string[], gt?: CocoDataset): number[] {
  const idByName = new Map((gt?.images ?? []).map((im) => [im.file_name, im.id]));
  return files.map((f, i) => {
    const id = gt ? idByName.get(path.basename(f)) : i + 1;
    if (id === undefined) throw new ConfigError(`image '${path.basename(f)}' is not in the COCO file's images; pass the matching --data`);
    return id;
  });
}

const ValSchema = z.object({
  data: z.string().optional().describe('COCO JSON of the images to score'),
  images: z.string().optional().describe('folder of its images (default <data folder>/images)'),
  ...thresholdKeys(EVAL_DEFAULTS),
});

interface ValData {
  gt: CocoDataset;
  files: string[];
}

/** `detect:val`: COCOeval of the detector on a COCO set, printed as pycocotools prints it, with a per-class table. */
export const detectVal: ValDefinition<typeof ValSchema, DetectionPredictor, ValData, DetectionEvaluation & { msPerImage: number; results: CocoResult[] }> = {
  command: 'detect:val',
  task: 'detect',
  schema: ValSchema,
  data({ cfg }) {
    if (!cfg.data) throw new ConfigError('detect:val needs --data <annotations.json>');
    const gt = readCocoFile(cfg.data);
    const dir = cfg.images ?? path.join(path.dirname(cfg.data), 'images');
    const files = (gt.images ?? []).map((im) => path.join(dir, String(im.file_name)));
    const missing = files.find((f) => !fs.existsSync(f));
    if (missing) throw new ConfigError(`image '${missing}' of ${cfg.data} does not exist; check --images`);
    return { gt, files };
  },
  async evaluate({ gt, files }, { cfg, predictor }) {
    const detections: DetectedObject[][] = [];
    let ms = 0;
    for (let i = 0; i < files.length; i += 16) {
      const images = await Promise.all(files.slice(i, i + 16).map(decodeImage));
      detections.push(...predictor.predict(images, cfg));
      ms += predictor.timing.inference * images.length;
    }
    const results = toCocoResults(detections, imageIds(files, gt));
    return { ...evaluateDetections(gt, results), results, msPerImage: ms / Math.max(1, files.length) };
  },
  lines: (r, { files }) => [
    ...r.lines,
    ...r.perCategory.map((c) => `${c.name.padEnd(16)} AP ${c.ap.toFixed(3)}  AP50 ${c.ap50.toFixed(3)}  AP75 ${c.ap75.toFixed(3)}  AR ${c.ar.toFixed(3)}`),
    `${files.length} images, ${r.msPerImage.toFixed(2)} ms/image inference + NMS`,
  ],
  json: (r) => ({ stats: r.stats, perCategory: r.perCategory }),
  async report(dir, r, { gt, files }, { cfg }) {
    writeDetectionReport(dir, r, { model: cfg.model, dataset: cfg.data });
    await plotDetectionCurves(dir, r);
    const cats = [...(gt.categories ?? [])].map((c) => c.id).sort((a, b) => a - b);
    const fileOf = new Map((gt.images ?? []).map((im, i) => [im.id, files[i]]));
    const e = await writeErrorReports(dir, gt, r.results, cats, (id) => fileOf.get(id));
    return `report → ${dir}/report.md (${e.falsePositives} false positives, ${e.falseNegatives} false negatives at score ≥ ${MATCHING_DEFAULTS.conf})`;
  },
};

const PredictSchema = z.object({
  data: z.string().optional().describe('COCO JSON whose image ids results.json uses (matched by file name)'),
  ...thresholdKeys(PREDICT_DEFAULTS),
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
  predict: (images, { predictor, cfg }) => predictor.predict(images, cfg),
  rows: (image, objects) => [{ image, detections: objects.map(toDetectionBox) }],
  line: (row) => `${row.image}\t${(row.detections as unknown[]).length} detections`,
  summary: (rows) => `${rows.reduce((n, r) => n + (r.detections as unknown[]).length, 0)} detections`,
  write: (dir, source, _image, objects) => drawBoxes(sharp(source), objects, path.join(dir, `${path.parse(source).name}.png`)),
  finish(dir, rows, { cfg, predictor }) {
    const gt = cfg.data ? readCocoFile(cfg.data) : undefined;
    const files = rows.map((r) => String(r.image));
    const ids = imageIds(files, gt);
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
    val: 'nx run detect:val -- --model <dir> --data <annotations.json> [--images <dir>] [--json out.json] [--out <dir>]',
    predict: 'nx run detect:predict -- --model <dir> --images <dir> [--data <annotations.json>] --out <dir>',
    prune: 'nx run detect:prune -- --model <dir> [--method magnitude|channel] --sparsity 0.5 --epochs N --out <dir> --data ... [training keys]',
  },
};
