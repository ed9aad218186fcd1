/** The data types of COCOeval: per-pair records and cells, evalImgs entries, accumulate()'s result. */
import type { Runs } from './mask';
import type { Bbox } from './mask-api';
import type { Params } from './params';

export interface GtRec {
  id: number;
  area: number;
  iscrowd: number;
  ignore: boolean;
  bbox?: Bbox;
  runs?: Runs;
  /** keypoints: [x, y, v] × k. */
  kps?: number[];
}
export interface DtRec {
  id: number;
  area: number;
  score: number;
  bbox?: Bbox;
  runs?: Runs;
  kps?: number[];
}

/** The detections and ground truths of one (image, category) pair, with their IoUs. */
export interface Cell {
  gts: GtRec[];
  /** Sorted by score (stable), cut at maxDets[-1]. */
  dts: DtRec[];
  /** IoU of detection d and gt g at [d·G + g], or null when either side is empty. */
  ious: Float64Array | null;
  /** Detection ids and scores in rank order and gt ids, made on first use (for evalImgs entries). */
  ids?: { dtIds: number[]; dtScores: number[]; gtIds: number[] };
}

/** pycocotools' evalImgs entry for one (image, category, area range). */
export interface EvalImg {
  image_id: number;
  category_id: number;
  aRng: [number, number];
  maxDet: number;
  dtIds: number[];
  gtIds: number[];
  /** Flat [T, D]: id of the matched gt (0 = none); row t starts at t·D. */
  dtMatches: Float64Array;
  /** Flat [T, G]: id of the matched detection (0 = none). */
  gtMatches: Float64Array;
  dtScores: number[];
  gtIgnore: Uint8Array;
  /** Flat [T, D] */
  dtIgnore: Uint8Array;
}

/** Row t of a flat [T, n] evalImgs array, as pycocotools' 2-D arrays index it. */
export const evalRow = <A extends Float64Array | Uint8Array>(flat: A, t: number, n: number): A => flat.subarray(t * n, (t + 1) * n) as A;

export interface EvalResult {
  params: Params;
  counts: [number, number, number, number, number];
  /** Flat [T, R, K, A, M] (C order); −1 where a category has no ground truth. */
  precision: Float64Array;
  /** Flat [T, K, A, M]. */
  recall: Float64Array;
  /** Flat [T, R, K, A, M]. */
  scores: Float64Array;
}

export interface CategoryAP {
  categoryId: number;
  /** AP@[.50:.95], AP@.50, AP@.75 and AR@[.50:.95] at area 'all' and the last maxDets; −1 = no gt. */
  ap: number;
  ap50: number;
  ap75: number;
  ar: number;
}
