/**
 * The detector's thresholds, in one place: the CLI (`detect:predict`, `detect:val`, training validation), the
 * Predictor, the web server and the detect page import them from here. Browser-safe.
 */

export interface Thresholds {
  conf: number;
  iou: number;
  maxDet: number;
}

/** What a user sees: `detect:predict`, the Predictor's defaults, the API and the page's sliders. */
export const PREDICT_DEFAULTS: Readonly<Thresholds> = Object.freeze({
  /** Score threshold. */
  conf: 0.25,
  /** Class-aware NMS IoU threshold. */
  iou: 0.7,
  /** Detections kept per image. */
  maxDet: 300,
});

/** COCO evaluation (`detect:val`, per-epoch validation): nearly every candidate, COCO's maxDets of 100. */
export const EVAL_DEFAULTS: Readonly<Thresholds> = Object.freeze({ conf: 0.001, iou: PREDICT_DEFAULTS.iou, maxDet: 100 });

/** Error analysis and the confusion matrix: detections at the user's threshold, matched to truth at IoU 0.45 (Ultralytics' value). */
export const MATCHING_DEFAULTS: Readonly<Omit<Thresholds, 'maxDet'>> = Object.freeze({ conf: PREDICT_DEFAULTS.conf, iou: 0.45 });
