/**
 * The answers the API returns and the page shows, made from a Predictor's output by the same functions on
 * the server (route handlers) and in the page (in-browser inference). Browser-safe.
 */
import type { Prediction } from '@cv/tasks-classify/predict';
import type { DetectedObject } from '@cv/tasks-detect/predict';
import type { SegmentationResult } from '@cv/tasks-segment/predict';

export interface ClassifyAnswer {
  model: string;
  top: { label: string; probability: number }[];
}

export interface DetectionBox {
  label: string;
  score: number;
  /** x, y, width, height in the image's own pixels. */
  box: [number, number, number, number];
}

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
  detections: objects.map((o) => ({ label: o.label, score: o.score, box: [o.box[0], o.box[1], o.box[2] - o.box[0], o.box[3] - o.box[1]] })),
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
export const CANDIDATES = { conf: 0.05, iou: 0.95, maxDet: 300 };
