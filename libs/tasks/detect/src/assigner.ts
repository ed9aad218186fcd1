import type { Anchors } from './boxes';
import { iouXyxy } from './boxes';

/** What the task-aligned assigner gives one image: per-anchor targets. */
export interface Assignment {
  /** Target boxes [A·4] (xyxy px; zeros for background anchors). */
  boxes: Float32Array;
  /** Target class scores [A·K]: the normalised alignment on the assigned class, 0 elsewhere. */
  scores: Float32Array;
  /** 1 for anchors assigned to an object. */
  foreground: Uint8Array;
  /** 0 for anchors inside an ignored (crowd) region that are not assigned: no classification loss there. */
  weight: Float32Array;
  /** Index of the assigned object (−1 for background). */
  gtIndex: Int32Array;
}

export interface AssignerOptions {
  /** Candidates per object (Ultralytics: 10). */
  topk?: number;
  /** Exponents of the alignment metric score^α · IoU^β (Ultralytics: 0.5, 6). */
  alpha?: number;
  beta?: number;
}

/**
 * Task-aligned assignment (TOOD, Feng et al. 2021; Ultralytics' TaskAlignedAssigner): for each object the
 * anchors whose centre lies inside its box are candidates; each candidate's alignment is t = s^α · IoU^β
 * (s = the predicted score of the object's class, IoU of the predicted box); the top-k candidates by t
 * are positives; an anchor claimed by several objects keeps the one it overlaps most; the target score
 * is t normalised per object so its best positive gets the object's best IoU. Anchors whose centres are
 * inside a crowd region (and are not positives) get weight 0.
 *
 * @example
 * const a = assign(predScores, predBoxes, anchors, numClasses, gtBoxes, gtClasses);
 */
export function assign(
  predScores: ArrayLike<number>,
  predBoxes: ArrayLike<number>,
  anchors: Anchors,
  numClasses: number,
  gtBoxes: ArrayLike<number>,
  gtClasses: ArrayLike<number>,
  ignoreBoxes: ArrayLike<number> = [],
  { topk = 10, alpha = 0.5, beta = 6 }: AssignerOptions = {},
): Assignment {
  const A = anchors.count;
  const n = gtClasses.length;
  const out: Assignment = {
    boxes: new Float32Array(A * 4),
    scores: new Float32Array(A * numClasses),
    foreground: new Uint8Array(A),
    weight: new Float32Array(A).fill(1),
    gtIndex: new Int32Array(A).fill(-1),
  };
  const inside = (g: ArrayLike<number>, gi: number, a: number) => {
    const x = anchors.points[a * 2];
    const y = anchors.points[a * 2 + 1];
    return x - g[gi] > 1e-9 && y - g[gi + 1] > 1e-9 && g[gi + 2] - x > 1e-9 && g[gi + 3] - y > 1e-9;
  };
  // Positives per object: the top-k aligned candidates.
  const claimIou = new Float32Array(A);
  const align = new Float32Array(A);
  const perGt: { a: number; t: number; iou: number }[][] = [];
  for (let g = 0; g < n; g++) {
    const c = gtClasses[g];
    const cands: { a: number; t: number; iou: number }[] = [];
    for (let a = 0; a < A; a++) {
      if (!inside(gtBoxes, g * 4, a)) continue;
      const iou = iouXyxy(predBoxes, a * 4, gtBoxes, g * 4);
      const s = predScores[a * numClasses + c];
      cands.push({ a, t: Math.pow(s, alpha) * Math.pow(iou, beta), iou });
    }
    cands.sort((p, q) => q.t - p.t || p.a - q.a);
    perGt.push(cands.slice(0, topk));
  }
  for (let g = 0; g < n; g++) {
    for (const p of perGt[g]) {
      // An anchor claimed by several objects keeps the one its predicted box overlaps most.
      if (out.gtIndex[p.a] === -1 || p.iou > claimIou[p.a]) {
        out.gtIndex[p.a] = g;
        claimIou[p.a] = p.iou;
        align[p.a] = p.t;
      }
    }
  }
  // Normalise the alignment per object: its best positive gets the object's best IoU.
  const maxT = new Float32Array(n);
  const maxIou = new Float32Array(n);
  for (let a = 0; a < A; a++) {
    const g = out.gtIndex[a];
    if (g < 0) continue;
    maxT[g] = Math.max(maxT[g], align[a]);
    maxIou[g] = Math.max(maxIou[g], claimIou[a]);
  }
  for (let a = 0; a < A; a++) {
    const g = out.gtIndex[a];
    if (g < 0) {
      for (let k = 0; k + 3 < ignoreBoxes.length; k += 4) if (inside(ignoreBoxes, k, a)) out.weight[a] = 0;
      continue;
    }
    out.foreground[a] = 1;
    for (let j = 0; j < 4; j++) out.boxes[a * 4 + j] = gtBoxes[g * 4 + j];
    out.scores[a * numClasses + gtClasses[g]] = (align[a] * maxIou[g]) / (maxT[g] + 1e-9);
  }
  return out;
}
