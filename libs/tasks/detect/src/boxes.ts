import * as tf from '@tensorflow/tfjs';
import { type Reads, readsBackSync } from '@cv/engine/core';
import { PREDICT_DEFAULTS } from './defaults';

/** x, with no gradient flowing through it (torch's detach). */
const stopGradient = (x: tf.Tensor): tf.Tensor =>
  tf.customGrad((t, save) => {
    void save;
    return { value: tf.clone(t as tf.Tensor), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => tf.zerosLike(dy as tf.Tensor) };
  })(x);

/** Box geometry of the anchor-free detector: anchor points, DFL decoding, CIoU, IoU and NMS. No Node imports. */

/** The anchor points of a model input: one per cell of each stride's grid, at the cell centre. */
export interface Anchors {
  /** Cell centres in input pixels, [A·2] (x, y). */
  points: Float32Array;
  /** Stride of each anchor, [A]. */
  strides: Float32Array;
  count: number;
}

/** Anchors for an input of h × w at strides (e.g. 8/16/32), level after level, row-major within a level. */
export function makeAnchors([h, w]: [number, number], strides: number[]): Anchors {
  const points: number[] = [];
  const out: number[] = [];
  for (const s of strides) {
    for (let y = 0; y < Math.ceil(h / s); y++) {
      for (let x = 0; x < Math.ceil(w / s); x++) {
        points.push((x + 0.5) * s, (y + 0.5) * s);
        out.push(s);
      }
    }
  }
  return { points: Float32Array.from(points), strides: Float32Array.from(out), count: out.length };
}

/**
 * Distribution focal loss decoding: each side's distance is the expectation of a softmax over
 * `regMax` bins (in stride units). [B, A, 4·regMax] logits → [B, A, 4].
 */
export function dflExpectation(logits: tf.Tensor3D, regMax: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, a] = logits.shape;
    const p = tf.softmax(tf.reshape(logits, [b, a, 4, regMax]));
    return tf.sum(tf.mul(p, tf.range(0, regMax, 1, 'float32')), -1) as tf.Tensor3D;
  });
}

/** Distances (l, t, r, b) in stride units → boxes x1, y1, x2, y2 in pixels. [B, A, 4]. */
export function distancesToBoxes(ltrb: tf.Tensor3D, anchors: Anchors): tf.Tensor3D {
  return tf.tidy(() => {
    const pts = tf.tensor2d(anchors.points, [anchors.count, 2]);
    const s = tf.tensor2d(anchors.strides, [anchors.count, 1]);
    const lt = tf.mul(tf.slice(ltrb, [0, 0, 0], [-1, -1, 2]), s);
    const rb = tf.mul(tf.slice(ltrb, [0, 0, 2], [-1, -1, 2]), s);
    return tf.concat([tf.sub(pts, lt), tf.add(pts, rb)], -1) as tf.Tensor3D;
  });
}

/**
 * Complete IoU (Zheng et al. 2020): IoU − ρ²/c² − αv, ρ = centre distance, c = enclosing diagonal,
 * v = (4/π²)(atan(w_gt/h_gt) − atan(w/h))², α = v / (1 − IoU + v). Boxes [..., 4] as x1, y1, x2, y2.
 */
export function ciou(a: tf.Tensor, b: tf.Tensor, eps = 1e-7): tf.Tensor {
  return tf.tidy(() => {
    // split, not unstack: the backends' Unpack copies element by element.
    const [ax1, ay1, ax2, ay2] = tf.split(a, 4, -1);
    const [bx1, by1, bx2, by2] = tf.split(b, 4, -1);
    const aw = tf.sub(ax2, ax1);
    const ah = tf.add(tf.sub(ay2, ay1), eps);
    const bw = tf.sub(bx2, bx1);
    const bh = tf.add(tf.sub(by2, by1), eps);
    const iw = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1)));
    const ih = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
    const inter = tf.mul(iw, ih);
    const union = tf.add(tf.sub(tf.add(tf.mul(aw, ah), tf.mul(bw, bh)), inter), eps);
    const iou = tf.div(inter, union);
    const cw = tf.sub(tf.maximum(ax2, bx2), tf.minimum(ax1, bx1));
    const ch = tf.sub(tf.maximum(ay2, by2), tf.minimum(ay1, by1));
    const c2 = tf.add(tf.add(tf.square(cw), tf.square(ch)), eps);
    const rho2 = tf.div(tf.add(tf.square(tf.sub(tf.add(bx1, bx2), tf.add(ax1, ax2))), tf.square(tf.sub(tf.add(by1, by2), tf.add(ay1, ay2)))), 4);
    const v = tf.mul(4 / Math.PI ** 2, tf.square(tf.sub(tf.atan(tf.div(bw, bh)), tf.atan(tf.div(aw, ah)))));
    // α is a constant of the gradient (as torch's no_grad in Ultralytics' bbox_iou): a tensor rebuilt from its values.
    const a0 = tf.div(v, tf.add(tf.sub(v, iou), 1 + eps));
    // (A GPU backend cannot read back inside a step: there the constant is an identity whose gradient is 0.)
    const alpha = readsBackSync() ? tf.tensor(a0.dataSync(), a0.shape) : stopGradient(a0);
    return tf.reshape(tf.sub(iou, tf.add(tf.div(rho2, c2), tf.mul(alpha, v))), a.shape.slice(0, -1));
  });
}

/** IoU of two x1, y1, x2, y2 boxes (plain numbers). */
export function iouXyxy(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  const iw = Math.min(a[ai + 2], b[bi + 2]) - Math.max(a[ai], b[bi]);
  const ih = Math.min(a[ai + 3], b[bi + 3]) - Math.max(a[ai + 1], b[bi + 1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a[ai + 2] - a[ai]) * (a[ai + 3] - a[ai + 1]) + (b[bi + 2] - b[bi]) * (b[bi + 3] - b[bi + 1]) - inter;
  return union > 0 ? inter / union : 0;
}

export interface Detection {
  /** x1, y1, x2, y2 in pixels. */
  box: [number, number, number, number];
  score: number;
  classIndex: number;
}

/**
 * Class-aware greedy non-maximum suppression of one image's candidates: boxes [N·4] (xyxy), class
 * scores [N·K]; each box keeps its best class (scores ≥ conf), boxes of the same class overlapping a
 * better one by more than `iou` are dropped, at most `maxDet` kept, best first.
 */
export function nms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  numClasses: number,
  { conf = PREDICT_DEFAULTS.conf, iou = PREDICT_DEFAULTS.iou, maxDet = PREDICT_DEFAULTS.maxDet, maxCandidates = 30000 } = {},
): Detection[] {
  const n = boxes.length / 4;
  const cand: { i: number; c: number; s: number }[] = [];
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (scores[i * numClasses + c] > scores[i * numClasses + best]) best = c;
    const s = scores[i * numClasses + best];
    if (s >= conf) cand.push({ i, c: best, s });
  }
  cand.sort((a, b) => b.s - a.s || a.i - b.i);
  cand.length = Math.min(cand.length, maxCandidates);
  const kept: { i: number; c: number; s: number }[] = [];
  for (const d of cand) {
    if (kept.length >= maxDet) break;
    if (kept.some((k) => k.c === d.c && iouXyxy(boxes, k.i * 4, boxes, d.i * 4) > iou)) continue;
    kept.push(d);
  }
  return kept.map(({ i, c, s }) => ({ box: [boxes[i * 4], boxes[i * 4 + 1], boxes[i * 4 + 2], boxes[i * 4 + 3]], score: s, classIndex: c }));
}

/**
 * One image's detection candidates from a batch's raw head output read back to the host ([B, A, 4·R + K] floats,
 * `image` its index): the anchors whose best class score can reach `conf`, their boxes (xyxy px of the model input,
 * DFL decoded for these anchors only) and their K class scores — the input `nms` takes, without decoding the
 * anchors a threshold drops. Equals `decodeOutputSteps` restricted to those anchors, within float rounding.
 */
export function hostCandidates(
  raw: ArrayLike<number>,
  image: number,
  anchors: Anchors,
  numClasses: number,
  regMax: number,
  conf: number,
): { boxes: Float32Array; scores: Float32Array } {
  const a = anchors.count;
  const width = 4 * regMax + numClasses;
  // sigmoid(z) ≥ conf ⇔ z ≥ logit(conf); the margin leaves the exact comparison to `nms`.
  const minLogit = conf <= 0 ? -Infinity : conf >= 1 ? Infinity : Math.log(conf / (1 - conf)) - 1e-6;
  const picked: number[] = [];
  for (let j = 0, o = image * a * width + 4 * regMax; j < a; j++, o += width) {
    let m = raw[o];
    for (let c = 1; c < numClasses; c++) if (raw[o + c] > m) m = raw[o + c];
    if (m >= minLogit) picked.push(j);
  }
  const boxes = new Float32Array(picked.length * 4);
  const scores = new Float32Array(picked.length * numClasses);
  const side = new Float64Array(4);
  picked.forEach((j, n) => {
    const o = (image * a + j) * width;
    for (let q = 0; q < 4; q++) {
      const b = o + q * regMax;
      let m = raw[b];
      for (let r = 1; r < regMax; r++) if (raw[b + r] > m) m = raw[b + r];
      let sum = 0;
      let dot = 0;
      for (let r = 0; r < regMax; r++) {
        const e = Math.exp(raw[b + r] - m);
        sum += e;
        dot += e * r;
      }
      side[q] = (dot / sum) * anchors.strides[j];
    }
    const px = anchors.points[2 * j];
    const py = anchors.points[2 * j + 1];
    boxes[4 * n] = px - side[0];
    boxes[4 * n + 1] = py - side[1];
    boxes[4 * n + 2] = px + side[2];
    boxes[4 * n + 3] = py + side[3];
    for (let c = 0; c < numClasses; c++) scores[n * numClasses + c] = 1 / (1 + Math.exp(-raw[o + 4 * regMax + c]));
  });
  return { boxes, scores };
}

/**
 * A batch's raw head output [B, A, 4·R + K] → boxes [B·A·4] (xyxy px of the model input) and class scores [B·A·K],
 * as read-back steps (`readSync` / `readAsync`).
 */
export function* decodeOutputSteps(
  raw: tf.Tensor3D,
  anchors: Anchors,
  numClasses: number,
  regMax: number,
): Reads<{ boxes: Float32Array; scores: Float32Array }> {
  const [boxes, scores] = tf.tidy(() => {
    const reg = tf.slice(raw, [0, 0, 0], [-1, -1, 4 * regMax]) as tf.Tensor3D;
    return [distancesToBoxes(dflExpectation(reg, regMax), anchors), tf.sigmoid(tf.slice(raw, [0, 0, 4 * regMax], [-1, -1, numClasses]))];
  });
  try {
    return { boxes: (yield boxes) as Float32Array, scores: (yield scores) as Float32Array };
  } finally {
    tf.dispose([boxes, scores]);
  }
}
