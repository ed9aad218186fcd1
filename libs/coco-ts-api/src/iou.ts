/** IoU of boxes and of run-length masks, as pycocotools computes them (bbIou, rleIou). */
import type { Bbox } from './mask';
import { type Runs, runsArea, runsToBbox } from './mask';
import { pairwiseSum } from './numeric';

/**
 * pycocotools' bbox IoU of D detections × G gts into a row-major [D·G] array (crowd gts: intersection over
 * the detection's area), for detections [d0, d0 + D) and gts [g0, g0 + G) of flat [x, y, w, h, …] box lists
 * (crowd flags indexed like the gts), so callers need not copy a cell's boxes out of larger lists.
 */
export function bboxIouInto(
  dt: Float64Array,
  d0: number,
  D: number,
  gt: Float64Array,
  g0: number,
  G: number,
  iscrowd: ArrayLike<number | boolean>,
  out: Float64Array = new Float64Array(D * G),
): Float64Array {
  for (let i = 0; i < D * G; i++) out[i] = 0;
  for (let g = 0; g < G; g++) {
    const b = 4 * (g0 + g);
    const bx = gt[b];
    const by = gt[b + 1];
    const bw = gt[b + 2];
    const bh = gt[b + 3];
    const ga = bw * bh;
    const crowd = !!iscrowd[g0 + g];
    for (let d = 0; d < D; d++) {
      const q = 4 * (d0 + d);
      const ax = dt[q];
      const ay = dt[q + 1];
      const aw = dt[q + 2];
      const ah = dt[q + 3];
      const da = aw * ah;
      const iw = Math.min(aw + ax, bw + bx) - Math.max(ax, bx);
      if (iw <= 0) continue;
      const ih = Math.min(ah + ay, bh + by) - Math.max(ay, by);
      if (ih <= 0) continue;
      const i = iw * ih;
      const u = crowd ? da : da + ga - i;
      out[d * G + g] = i / u;
    }
  }
  return out;
}

/** [x, y, w, h, …] of boxes. */
function flatBoxes(boxes: readonly Bbox[]): Float64Array {
  const out = new Float64Array(4 * boxes.length);
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    out[4 * i] = b[0];
    out[4 * i + 1] = b[1];
    out[4 * i + 2] = b[2];
    out[4 * i + 3] = b[3];
  }
  return out;
}

/** pycocotools' bbox IoU of detections × gts as one row-major [D·G] array. */
export function bboxIouFlat(dt: readonly Bbox[], gt: readonly Bbox[], iscrowd: ArrayLike<number | boolean>, out?: Float64Array): Float64Array {
  return bboxIouInto(flatBoxes(dt), 0, dt.length, flatBoxes(gt), 0, gt.length, iscrowd, out);
}

/** Rows [D][G] of a flat [D·G] IoU array (views of the same buffer). */
const rowsOf = (flat: Float64Array, D: number, G: number): Float64Array[] => Array.from({ length: D }, (_, d) => flat.subarray(d * G, (d + 1) * G));

/** pycocotools' bbox IoU, [D][G]. */
export function bboxIou(dt: Bbox[], gt: Bbox[], iscrowd: ArrayLike<number | boolean>): Float64Array[] {
  return rowsOf(bboxIouFlat(dt, gt, iscrowd), dt.length, gt.length);
}

/**
 * Pixels where two run-length masks of the same size are both on: the overlap of their foreground intervals,
 * found by advancing whichever interval ends first (the pixels maskApi.c's lockstep walk counts, in half its
 * steps). Lists whose lengths sum differently are read as background past their end.
 */
export function runsIntersection(A: ArrayLike<number>, B: ArrayLike<number>): number {
  const nA = A.length;
  const nB = B.length;
  if (nA < 2 || nB < 2) return 0;
  let ia = 1;
  let sa = A[0];
  let ea = sa + A[1];
  let ib = 1;
  let sb = B[0];
  let eb = sb + B[1];
  let inter = 0;
  for (;;) {
    const lo = sa > sb ? sa : sb;
    const hi = ea < eb ? ea : eb;
    if (hi > lo) inter += hi - lo;
    if (ea < eb) {
      if (ia + 2 >= nA) return inter;
      sa = ea + A[ia + 1];
      ea = sa + A[ia + 2];
      ia += 2;
    } else {
      if (ib + 2 >= nB) return inter;
      sb = eb + B[ib + 1];
      eb = sb + B[ib + 2];
      ib += 2;
    }
  }
}

/**
 * IoU of masks, pycocotools' rleIou (boxes first as a filter; −1 where sizes differ), as one row-major [D·G]
 * array. The union is area(A) + area(B) − intersection (pycocotools sums it along the walk: the same integers),
 * a crowd gt's union the detection's area.
 */
export function runsIouFlat(dt: readonly Runs[], gt: readonly Runs[], iscrowd: ArrayLike<number | boolean>, out?: Float64Array): Float64Array {
  const boxes = (rs: readonly Runs[]) => flatBoxes(rs.map(runsToBbox));
  return runsIouInto(dt, 0, dt.length, gt, 0, gt.length, iscrowd, boxes(dt), boxes(gt), Float64Array.from(dt, runsArea), Float64Array.from(gt, runsArea), out);
}

/**
 * `runsIouFlat` for detections [d0, d0 + D) and gts [g0, g0 + G) of longer lists whose boxes ([x, y, w, h] at
 * 4i) and areas (at i) are known already (the evaluator computes them once per mask); crowd flags are indexed
 * like the gts.
 */
export function runsIouInto(
  dt: readonly Runs[],
  d0: number,
  D: number,
  gt: readonly Runs[],
  g0: number,
  G: number,
  iscrowd: ArrayLike<number | boolean>,
  dtBox: Float64Array,
  gtBox: Float64Array,
  dtArea: Float64Array,
  gtArea: Float64Array,
  out: Float64Array = new Float64Array(D * G),
): Float64Array {
  const boxes = bboxIouInto(dtBox, d0, D, gtBox, g0, G, iscrowd, out);
  for (let g = 0; g < G; g++) {
    for (let d = 0; d < D; d++) {
      const o = d * G + g;
      if (!(boxes[o] > 0)) continue;
      const A = dt[d0 + d];
      const B = gt[g0 + g];
      if (A.h !== B.h || A.w !== B.w) {
        boxes[o] = -1;
        continue;
      }
      const i = runsIntersection(A.cnts, B.cnts);
      const u = i === 0 ? 1 : iscrowd[g0 + g] ? dtArea[d0 + d] : dtArea[d0 + d] + gtArea[g0 + g] - i;
      boxes[o] = i / u;
    }
  }
  return boxes;
}

/** IoU of masks, [D][G] (see `runsIouFlat`). */
export function runsIou(dt: Runs[], gt: Runs[], iscrowd: ArrayLike<number | boolean>): Float64Array[] {
  return rowsOf(runsIouFlat(dt, gt, iscrowd), dt.length, gt.length);
}

/** np.spacing(1): what pycocotools adds to a gt's area in the OKS. */
const SPACING_1 = 2.220446049250313e-16;

/**
 * pycocotools' computeOks: object keypoint similarity of D detections × G gts into a row-major [D·G] array.
 * Per gt: the visible keypoints (v > 0) compare with the detection's; a gt with none measures the detection's
 * points' distance outside the box grown by its own size on every side. `e = (dx² + dy²) / (2σ)² / (area + ε) / 2`,
 * OKS = Σ exp(−e) / count, summed as numpy does (pairwise) in the same float64 order.
 */
export function oksInto(
  dtKps: readonly (readonly number[])[],
  gtKps: readonly (readonly number[])[],
  gtBoxes: readonly Bbox[],
  gtAreas: ArrayLike<number>,
  sigmas: readonly number[],
  out: Float64Array = new Float64Array(dtKps.length * gtKps.length),
): Float64Array {
  const D = dtKps.length;
  const G = gtKps.length;
  const k = sigmas.length;
  const vars = sigmas.map((s) => s * 2 * (s * 2));
  const e = new Float64Array(k);
  for (let g = 0; g < G; g++) {
    const gk = gtKps[g];
    let k1 = 0;
    for (let i = 0; i < k; i++) if (gk[3 * i + 2] > 0) k1++;
    const bb = gtBoxes[g];
    const [x0, x1] = [bb[0] - bb[2], bb[0] + bb[2] * 2];
    const [y0, y1] = [bb[1] - bb[3], bb[1] + bb[3] * 2];
    const area = gtAreas[g] + SPACING_1;
    for (let d = 0; d < D; d++) {
      const dk = dtKps[d];
      let n = 0;
      for (let i = 0; i < k; i++) {
        const xd = dk[3 * i];
        const yd = dk[3 * i + 1];
        let dx: number;
        let dy: number;
        if (k1 > 0) {
          if (!(gk[3 * i + 2] > 0)) continue;
          dx = xd - gk[3 * i];
          dy = yd - gk[3 * i + 1];
        } else {
          dx = Math.max(0, x0 - xd) + Math.max(0, xd - x1);
          dy = Math.max(0, y0 - yd) + Math.max(0, yd - y1);
        }
        e[n++] = Math.exp(-((dx * dx + dy * dy) / vars[i] / area / 2));
      }
      out[d * G + g] = pairwiseSum(e, 0, n) / n;
    }
  }
  return out;
}

/** Per-cell room for the masks of a segm cell, their boxes, areas and crowd flags: `runsIouInto`'s inputs. */
export class MaskScratch {
  gRuns: Runs[] = [];
  dRuns: Runs[] = [];
  gBox = new Float64Array(0);
  dBox = new Float64Array(0);
  gArea = new Float64Array(0);
  dArea = new Float64Array(0);
  crowd = new Int32Array(0);
  fit(G: number, D: number): this {
    if (G > this.gArea.length) {
      const n = Math.max(G, 2 * this.gArea.length, 16);
      this.gBox = new Float64Array(4 * n);
      this.gArea = new Float64Array(n);
      this.crowd = new Int32Array(n);
    }
    if (D > this.dArea.length) {
      const n = Math.max(D, 2 * this.dArea.length, 16);
      this.dBox = new Float64Array(4 * n);
      this.dArea = new Float64Array(n);
    }
    this.gRuns.length = G;
    this.dRuns.length = D;
    return this;
  }
}
