/**
 * The answers the API returns and the page shows, made from a Predictor's output by the same functions on
 * the server (route handlers) and in the page (in-browser inference). Browser-safe.
 */
import type { Prediction } from '@cv/tasks-classify/predict';
import { type DetectionBox, PREDICT_DEFAULTS, toDetectionBox } from '@cv/tasks-detect/answer';
import type { DetectedObject } from '@cv/tasks-detect/predict';
import type { SegmentationResult } from '@cv/tasks-segment/predict';

export interface ClassifyAnswer {
  model: string;
  top: { label: string; probability: number }[];
}

export type { DetectionBox } from '@cv/tasks-detect/answer';

export interface DetectAnswer {
  model: string;
  classes: string[];
  width: number;
  height: number;
  detections: DetectionBox[];
}

export interface SegmentSummary {
  model: string;
  classes: string[];
  colours: [number, number, number][];
  coverage: Record<string, number>;
  width: number;
  height: number;
}

export const classifyAnswer = (model: string, p: Prediction): ClassifyAnswer => ({
  model,
  top: p.topK.map(({ label, probability }) => ({ label, probability })),
});

export const detectAnswer = (model: string, classes: string[], width: number, height: number, objects: DetectedObject[]): DetectAnswer => ({
  model,
  classes,
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
