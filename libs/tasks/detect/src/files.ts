/** Detection over image files: the COCO set and its images, the Predictor's results, their report (detect:val, detect:predict). */
import fs from 'node:fs';
import path from 'node:path';
import { decodeImage } from '@cv/data';
import { ConfigError } from '@cv/engine';
import { COCO, type CocoDataset, type CocoResult, COCOeval, ERROR_KINDS, evaluateShard, mergeShards, parseShard, serializeShard } from 'coco-ts-api';
import { MATCHING_DEFAULTS, type Thresholds } from './defaults';
import { writeErrorReports } from './error-analysis';
import type { DetectedObject, DetectionPredictor } from './predictor';
import { type DetectionEvaluation, evaluateDetections, plotDetectionCurves, summarizeDetections, toCocoResults, writeDetectionReport } from './validator';

export function readCocoFile(file: string): CocoDataset {
  if (!fs.existsSync(file)) throw new ConfigError(`COCO file '${file}' does not exist; pass --data <annotations.json>`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CocoDataset;
}

/** A COCO set and its image files (default folder `<data folder>/images`), every file checked. */
export function readCocoImages(data: string, images = path.join(path.dirname(data), 'images')): { gt: CocoDataset; files: string[] } {
  const gt = readCocoFile(data);
  const files = (gt.images ?? []).map((im) => path.join(images, String(im.file_name)));
  const missing = files.find((f) => !fs.existsSync(f));
  if (missing) throw new ConfigError(`image '${missing}' of ${data} does not exist; check --images`);
  return { gt, files };
}

/** COCO image ids of image files, by file name in the COCO set (else 1..N in file order). */
export function cocoImageIds(files: string[], gt?: CocoDataset): number[] {
  const idByName = new Map((gt?.images ?? []).map((im) => [im.file_name, im.id]));
  return files.map((f, i) => {
    const id = gt ? idByName.get(path.basename(f)) : i + 1;
    if (id === undefined) throw new ConfigError(`image '${path.basename(f)}' is not in the COCO file's images; pass the matching --data`);
    return id;
  });
}

/** `results`: every detection, when one process holds them (a queued run's shards keep theirs). */
export type FileEvaluation = DetectionEvaluation & { results?: CocoResult[]; msPerImage: number };

/** COCOeval of the Predictor on image files (decoded 16 at a time): the path of `detect:predict`, scored. */
export async function evaluateDetectorOnFiles(predictor: DetectionPredictor, gt: CocoDataset, files: string[], options: Thresholds): Promise<FileEvaluation> {
  const { results, ms } = await detectFiles(predictor, gt, files, options);
  return { ...evaluateDetections(gt, results, { extended: true }), results, msPerImage: ms / Math.max(1, files.length) };
}

/** COCO results of the Predictor on image files (decoded 16 at a time, as `detect:predict` batches) and the inference ms. */
async function detectFiles(predictor: DetectionPredictor, gt: CocoDataset, files: string[], options: Thresholds) {
  const detections: DetectedObject[][] = [];
  let ms = 0;
  for (let i = 0; i < files.length; i += 16) {
    const images = await Promise.all(files.slice(i, i + 16).map(decodeImage));
    detections.push(...(await predictor.predictAsync(images, options)));
    ms += (predictor.timing.inference + predictor.timing.postprocess) * images.length;
  }
  return { results: toCocoResults(detections, cocoImageIds(files, gt)), ms };
}

/** One shard of a queued `detect:val`: its images' detections evaluated on those images only (a coco-ts-api shard). */
export interface DetectionShardPart {
  shard: string;
  detections: number;
  ms: number;
  images: number;
}

/** The part of some images (indices into `files`): detections, then COCOeval on those images (`evaluateShard`). */
export async function evaluateDetectionShard(
  predictor: DetectionPredictor,
  gt: CocoDataset,
  files: string[],
  items: number[],
  options: Thresholds,
): Promise<DetectionShardPart> {
  const mine = items.map((i) => files[i]);
  const { results, ms } = await detectFiles(predictor, gt, mine, options);
  const coco = new COCO(gt);
  const E = new COCOeval(coco, coco.loadRes(results), 'bbox');
  return { shard: serializeShard(evaluateShard(E, cocoImageIds(mine, gt))), detections: results.length, ms, images: mine.length };
}

/** Every shard's part merged and accumulated once: the numbers of one `evaluateDetectorOnFiles`, bit for bit. */
export function mergeDetectionShards(parts: DetectionShardPart[], gt: CocoDataset): FileEvaluation {
  const E = mergeShards(parts.map((p) => parseShard(p.shard)));
  const detections = parts.reduce((n, p) => n + p.detections, 0);
  const ms = parts.reduce((n, p) => n + p.ms, 0);
  return {
    ...summarizeDetections(E, gt, detections, { extended: true }),
    msPerImage:
      ms /
      Math.max(
        1,
        parts.reduce((n, p) => n + p.images, 0),
      ),
  };
}

/** The lines `detect:val` prints: pycocotools' 12, a per-class table, the speed. */
export const detectionLines = (r: FileEvaluation, images: number) => [
  ...r.lines,
  ...r.perCategory.map((c) => `${c.name.padEnd(16)} AP ${c.ap.toFixed(3)}  AP50 ${c.ap50.toFixed(3)}  AP75 ${c.ap75.toFixed(3)}  AR ${c.ar.toFixed(3)}`),
  ...(r.extended
    ? [
        `at confidence ≥ ${r.extended.bestConfidence.toFixed(2)} (best macro-F1, IoU ${r.extended.iouThr.toFixed(2)}): precision ${r.extended.macro.precision.toFixed(3)}, recall ${r.extended.macro.recall.toFixed(3)}, F1 ${r.extended.macro.f1.toFixed(3)}`,
        ...(r.extended.errors
          ? [
              `errors (count, AP${Math.round(r.extended.iouThr * 100)} gained if fixed): ${ERROR_KINDS.map((k) => `${k} ${r.extended!.errors!.counts[k]} +${r.extended!.errors!.apGain[k].toFixed(3)}`).join(', ')}`,
            ]
          : []),
      ]
    : []),
  `${images} images, ${r.msPerImage.toFixed(2)} ms/image inference + NMS`,
];

/** `detect:val --out`: report.json / .md, PR and F1 curves, the error galleries; returns one line. */
export async function writeFileEvaluationReport(
  dir: string,
  r: FileEvaluation,
  gt: CocoDataset,
  files: string[],
  info: Record<string, unknown>,
): Promise<string> {
  await plotDetectionCurves(dir, r);
  const cats = [...(gt.categories ?? [])].map((c) => c.id).sort((a, b) => a - b);
  const fileOf = new Map((gt.images ?? []).map((im, i) => [im.id, files[i]]));
  if (!r.results) {
    writeDetectionReport(dir, r, info);
    return `report → ${dir}/report.md (the error galleries need every detection in one process: run without --queue)`;
  }
  const e = await writeErrorReports(dir, gt, r.results, cats, (id) => fileOf.get(id));
  writeDetectionReport(dir, r, info, e);
  return `report → ${dir}/report.md (${e.falsePositives} false positives, ${e.falseNegatives} false negatives at score ≥ ${MATCHING_DEFAULTS.conf})`;
}
