/** Detections matched to objects one to one (browser-safe: the report's confusion matrix and the demo's explorer). */
import type { CocoDataset, CocoResult } from 'coco-ts-api';
import { iouXyxy } from './boxes';
import { MATCHING_DEFAULTS } from './defaults';

/**
 * A detection that is not a correct match ('background': no object under it; 'wrong class': on an object of
 * another class), or an object without a correct detection ('missed'; 'misread': detected as another class).
 */
export interface DetectionError {
  kind: 'background' | 'wrong class' | 'missed' | 'misread';
  imageId: number;
  /** [x, y, w, h] in original pixels: the detection's box (false positives) or the object's (false negatives). */
  bbox: number[];
  /** Detected category (false positives) or the object's (false negatives). */
  categoryId: number;
  /** For 'wrong class': the other side's category (the object's true one, or the one it was read as). */
  otherCategoryId?: number;
  /** The detection's score (false positives; the mis-classifying detection's for 'wrong class' objects). */
  score?: number;
}

export interface DetectionMatching {
  /** [true][predicted] over the classes plus background (last row / column). */
  matrix: number[][];
  /** Background and wrong-class detections, the highest scores first. */
  falsePositives: DetectionError[];
  /** Missed and mis-classified objects, the largest first. */
  falseNegatives: DetectionError[];
}

/**
 * Matches detections with score ≥ `conf` to objects one to one by IoU ≥ `iou`, best overlaps first, across
 * classes (as Ultralytics' confusion matrix): a pair of different classes is a confusion, an unmatched object
 * a miss (predicted background), an unmatched detection a background false positive. Crowd objects are left out.
 */
export function matchDetections(
  gt: CocoDataset,
  results: CocoResult[],
  categoryIds: number[],
  { conf = MATCHING_DEFAULTS.conf, iou = MATCHING_DEFAULTS.iou } = {},
): DetectionMatching {
  const k = categoryIds.length;
  const idx = new Map(categoryIds.map((id, i) => [id, i]));
  const matrix = Array.from({ length: k + 1 }, () => new Array(k + 1).fill(0));
  const falsePositives: DetectionError[] = [];
  const falseNegatives: DetectionError[] = [];
  const xyxy = (b: number[]) => [b[0], b[1], b[0] + b[2], b[1] + b[3]];
  const objectsOf = new Map<number, NonNullable<CocoDataset['annotations']>>();
  for (const a of gt.annotations ?? []) if (!a.iscrowd) objectsOf.set(a.image_id, [...(objectsOf.get(a.image_id) ?? []), a]);
  const detsOf = new Map<number, CocoResult[]>();
  for (const r of results) if (r.score >= conf) detsOf.set(r.image_id, [...(detsOf.get(r.image_id) ?? []), r]);
  for (const im of gt.images ?? []) {
    const objs = objectsOf.get(im.id) ?? [];
    const dets = detsOf.get(im.id) ?? [];
    const pairs: { o: number; d: number; v: number }[] = [];
    objs.forEach((a, o) =>
      dets.forEach((r, d) => {
        const v = iouXyxy(xyxy(a.bbox as number[]), 0, xyxy(r.bbox as number[]), 0);
        if (v >= iou) pairs.push({ o, d, v });
      }),
    );
    pairs.sort((a, b) => b.v - a.v);
    const matchOfO = new Map<number, number>();
    const usedD = new Set<number>();
    for (const p of pairs) {
      if (matchOfO.has(p.o) || usedD.has(p.d)) continue;
      matchOfO.set(p.o, p.d);
      usedD.add(p.d);
    }
    objs.forEach((a, o) => {
      const d = matchOfO.get(o);
      const truth = a.category_id!;
      if (d === undefined) {
        matrix[idx.get(truth)!][k]++;
        falseNegatives.push({ kind: 'missed', imageId: im.id, bbox: a.bbox as number[], categoryId: truth });
        return;
      }
      const det = dets[d];
      matrix[idx.get(truth)!][idx.get(det.category_id)!]++;
      if (det.category_id !== truth) {
        falseNegatives.push({
          kind: 'misread',
          imageId: im.id,
          bbox: a.bbox as number[],
          categoryId: truth,
          otherCategoryId: det.category_id,
          score: det.score,
        });
        falsePositives.push({
          kind: 'wrong class',
          imageId: im.id,
          bbox: det.bbox as number[],
          categoryId: det.category_id,
          otherCategoryId: truth,
          score: det.score,
        });
      }
    });
    dets.forEach((r, d) => {
      if (usedD.has(d)) return;
      matrix[k][idx.get(r.category_id)!]++;
      falsePositives.push({ kind: 'background', imageId: im.id, bbox: r.bbox as number[], categoryId: r.category_id, score: r.score });
    });
  }
  falsePositives.sort((a, b) => b.score! - a.score!);
  falseNegatives.sort((a, b) => b.bbox[2] * b.bbox[3] - a.bbox[2] * a.bbox[3]);
  return { matrix, falsePositives, falseNegatives };
}

/** The detection confusion matrix [true][predicted] with a background row and column (see `matchDetections`). */
export function detectionConfusion(gt: CocoDataset, results: CocoResult[], categoryIds: number[], options: { conf?: number; iou?: number } = {}): number[][] {
  return matchDetections(gt, results, categoryIds, options).matrix;
}
