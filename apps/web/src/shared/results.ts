/**
 * The answers the API returns and the page shows, made from a Predictor's output by the same functions on
 * the server (route handlers) and in the page (in-browser inference). Browser-safe.
 */
import type { Prediction } from '@cv/tasks-classify/predict';
import { type DetectionBox, PREDICT_DEFAULTS, toDetectionBox } from '@cv/tasks-detect/answer';
import type { DetectedObject } from '@cv/tasks-detect/predict';
import type { SegmentationResult } from '@cv/tasks-segment/predict';

/** Milliseconds of one answer by stage: decoding the file, pre-processing, the model, post-processing (NMS, masks). */
export interface StageTiming {
  decode: number;
  preprocess: number;
  inference: number;
  postprocess: number;
}

export const roundStages = (t: StageTiming): StageTiming => ({
  decode: +t.decode.toFixed(2),
  preprocess: +t.preprocess.toFixed(2),
  inference: +t.inference.toFixed(2),
  postprocess: +t.postprocess.toFixed(2),
});

export interface ClassifyAnswer {
  model: string;
  top: { label: string; probability: number }[];
  /** Where it was measured: the server's or the page's stages. */
  timing?: StageTiming;
}

export type { DetectionBox } from '@cv/tasks-detect/answer';

export interface DetectAnswer {
  model: string;
  classes: string[];
  /** COCO category id of each class (what a results file names). */
  categoryIds: number[];
  width: number;
  height: number;
  detections: DetectionBox[];
  timing?: StageTiming;
}

export interface SegmentSummary {
  model: string;
  classes: string[];
  colours: [number, number, number][];
  coverage: Record<string, number>;
  width: number;
  height: number;
  timing?: StageTiming;
}

export const classifyAnswer = (model: string, p: Prediction): ClassifyAnswer => ({
  model,
  top: p.topK.map(({ label, probability }) => ({ label, probability })),
});

export const detectAnswer = (
  model: string,
  meta: { classNames: string[]; categoryIds: number[] },
  width: number,
  height: number,
  objects: DetectedObject[],
): DetectAnswer => ({
  model,
  classes: meta.classNames,
  categoryIds: meta.categoryIds,
  width,
  height,
  detections: objects.map(toDetectionBox),
});

export const segmentSummary = (model: string, classes: string[], colours: [number, number, number][], r: SegmentationResult): SegmentSummary => ({
  model,
  classes,
  colours,
  coverage: Object.fromEntries(classes.map((c, i) => [c, r.pixelShare[i]])),
  width: r.width,
  height: r.height,
});

/** What the detect page asks for: a loose candidate set that its sliders then filter (conf, class-aware NMS). */
export const CANDIDATES = { conf: 0.05, iou: 0.95, maxDet: PREDICT_DEFAULTS.maxDet };

/** Where the page's sliders start: the detector's own defaults. */
export { PREDICT_DEFAULTS };

/** An answer's detections as COCO results (`[{image_id, category_id, bbox, score}]`): what `coco-ts-api:eval --dt` reads. */
export const cocoResults = (answer: DetectAnswer, detections: DetectionBox[], imageId: number) =>
  detections.map((d) => ({
    image_id: imageId,
    category_id: answer.categoryIds[d.classIndex] ?? d.classIndex + 1,
    bbox: d.box.map((v) => +v.toFixed(2)),
    score: +d.score.toFixed(5),
  }));

/** Models of a task as `/api/models` lists them. */
export interface ModelChoice {
  id: string;
  title: string;
  /** The server alone runs it (an ONNX model, or one the operator added): no in-browser copy. */
  serverOnly?: boolean;
}
