import * as tf from '@tensorflow/tfjs';
import type { InferenceModel } from '@cv/engine/core';
import { type Detection, nms } from './boxes';

/**
 * Detectors users already have: Ultralytics' ONNX exports, read from their own metadata and output layouts.
 *
 * - YOLOv8 / YOLO11: input [1, 3, H, W] (RGB, 0..1, letterboxed with grey 114), output [1, 4 + nc, anchors]: per
 *   anchor a box (centre x, centre y, width, height in input pixels) and nc class scores (sigmoid applied), before NMS.
 * - YOLO26 / end-to-end exports: output [1, N, 6] (x1, y1, x2, y2, score, class), NMS already done.
 *
 * Metadata (`metadata_props`): task 'detect', names "{0: 'person', 1: 'bicycle', ...}", imgsz "[640, 640]", stride.
 */
export type DetectLayout = 'suite' | 'ultralytics' | 'ultralytics-e2e';

/** Class names from Ultralytics' `names` (a Python dict's repr, JSON, or a list); null when absent. */
export function parseNames(v: unknown): string[] | null {
  if (v == null || v === '') return null;
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, n]) => String(n));
  const text = String(v).trim();
  try {
    return parseNames(JSON.parse(text));
  } catch {
    // Python's repr: {0: 'person', 1: "it's"}
    const entries = [...text.matchAll(/(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g)].map(
      (m) => [Number(m[1]), (m[2] ?? m[3]).replace(/\\(.)/g, '$1')] as const,
    );
    if (!entries.length) return null;
    return entries.sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  }
}

/** The input size from `imgsz` ("[640, 640]", "640") or the model's NCHW input shape. */
function inputSize(meta: Record<string, unknown>, model: InferenceModel, where: string): [number, number] {
  const parsed = (() => {
    try {
      const v = typeof meta.imgsz === 'string' ? JSON.parse(meta.imgsz) : meta.imgsz;
      return Array.isArray(v) ? [Number(v[0]), Number(v[v.length - 1])] : typeof v === 'number' ? [v, v] : null;
    } catch {
      return null;
    }
  })();
  const shape = model.inputs[0]?.shape ?? [];
  const fromShape = shape.length === 4 && typeof shape[2] === 'number' && typeof shape[3] === 'number' ? [shape[2], shape[3]] : null;
  const size = (fromShape ?? parsed) as [number, number] | null;
  if (!size || !(size[0] > 0 && size[1] > 0)) throw new Error(`${where}: no input size in its metadata (imgsz) or input shape; export it with a fixed imgsz`);
  return size;
}

/**
 * Detector metadata for an Ultralytics ONNX export: its layout from the output shape, class names from `names`
 * (or class0..; an end-to-end export without names needs them given), the input size.
 */
export function ultralyticsMetadata(meta: Record<string, unknown>, model: InferenceModel, where: string) {
  const out = model.outputs[0]?.shape ?? [];
  const names = parseNames(meta.names);
  let layout: DetectLayout;
  let classNames: string[];
  if (out.length === 3 && out[2] === 6) {
    layout = 'ultralytics-e2e';
    classNames = names ?? [];
  } else if (out.length === 3 && typeof out[1] === 'number' && out[1] > 4) {
    layout = 'ultralytics';
    const nc = out[1] - 4;
    if (names && names.length !== nc)
      throw new Error(`${where}: its metadata names ${names.length} classes but its output has ${nc}; pass --classes with ${nc} names`);
    classNames = names ?? Array.from({ length: nc }, (_, i) => `class${i}`);
  } else {
    throw new Error(`${where}: output shape [${out}] is neither Ultralytics' [1, 4 + classes, anchors] nor [1, N, 6]; not a detector this suite reads`);
  }
  return {
    task: 'detect' as const,
    classNames,
    categoryIds: classNames.map((_, i) => i + 1),
    imgsz: inputSize(meta, model, where),
    strides: [8, 16, 32],
    regMax: 0,
    layout,
    model: typeof meta.description === 'string' ? meta.description : 'ultralytics onnx',
  };
}

/**
 * One batch's raw Ultralytics output → per image detections in model-input pixels (before the letterbox is undone).
 */
export function decodeUltralytics(
  raw: tf.Tensor,
  layout: Exclude<DetectLayout, 'suite'>,
  numClasses: number,
  o: { conf: number; iou: number; maxDet: number },
): Detection[][] {
  const [b, d1, d2] = raw.shape as [number, number, number];
  const data = raw.dataSync() as Float32Array;
  const out: Detection[][] = [];
  for (let i = 0; i < b; i++) {
    const img = data.subarray(i * d1 * d2, (i + 1) * d1 * d2);
    if (layout === 'ultralytics-e2e') {
      const dets: Detection[] = [];
      for (let r = 0; r < d1 && dets.length < o.maxDet; r++) {
        const s = img[r * 6 + 4];
        if (!(s >= o.conf)) continue;
        const c = Math.round(img[r * 6 + 5]);
        if (c < 0 || (numClasses > 0 && c >= numClasses)) continue;
        dets.push({ box: [img[r * 6], img[r * 6 + 1], img[r * 6 + 2], img[r * 6 + 3]], score: s, classIndex: c });
      }
      out.push(dets.sort((a, z) => z.score - a.score));
      continue;
    }
    // [4 + nc, A] channel-major → boxes [A·4] xyxy and scores [A·nc].
    const a = d2;
    const boxes = new Float32Array(a * 4);
    const scores = new Float32Array(a * numClasses);
    for (let j = 0; j < a; j++) {
      const cx = img[j];
      const cy = img[a + j];
      const w = img[2 * a + j];
      const h = img[3 * a + j];
      boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], j * 4);
      for (let c = 0; c < numClasses; c++) scores[j * numClasses + c] = img[(4 + c) * a + j];
    }
    out.push(nms(boxes, scores, numClasses, o));
  }
  return out;
}
