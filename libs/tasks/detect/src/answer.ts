/**
 * A detection as it leaves the suite — `detect:predict`'s predictions.json, the API and the detect page: the
 * box as COCO's [x, y, width, height] in the image's own pixels, with its class index and label. Browser-safe
 * and light (no tfjs: `@cv/tasks-detect/answer`), so the web page imports it without loading the detector.
 */
import type { DetectedObject } from './predictor';

export * from './defaults';

export interface DetectionBox {
  label: string;
  classIndex: number;
  score: number;
  /** x, y, width, height in the image's own pixels (COCO's bbox). */
  box: [number, number, number, number];
}

/** A Predictor's detection (xyxy) as the answer shape (xywh). */
export function toDetectionBox(o: DetectedObject): DetectionBox {
  const [x1, y1, x2, y2] = o.box;
  return { label: o.label, classIndex: o.classIndex, score: o.score, box: [x1, y1, x2 - x1, y2 - y1] };
}
