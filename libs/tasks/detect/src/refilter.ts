import { nms } from './boxes';
import type { DetectionBox } from './answer';
import type { Thresholds } from './defaults';

/**
 * Re-filters answers with other thresholds: the same class-aware NMS as the Predictor, on boxes already
 * decoded (the page's sliders over a loose candidate set from the server).
 *
 * @example
 * const shown = filterDetections(answer.detections, answer.classes, { conf: 0.5, iou: 0.6, maxDet: 300 });
 */
export function filterDetections(detections: DetectionBox[], classes: string[], { conf, iou, maxDet }: Thresholds): DetectionBox[] {
  const k = classes.length;
  const boxes = new Float32Array(detections.length * 4);
  const scores = new Float32Array(detections.length * k);
  detections.forEach((d, i) => {
    boxes.set([d.box[0], d.box[1], d.box[0] + d.box[2], d.box[1] + d.box[3]], i * 4);
    scores[i * k + d.classIndex] = d.score;
  });
  return nms(boxes, scores, k, { conf, iou, maxDet }).map((n) => {
    const [x1, y1, x2, y2] = n.box;
    return { label: classes[n.classIndex], classIndex: n.classIndex, score: n.score, box: [x1, y1, x2 - x1, y2 - y1] };
  });
}
