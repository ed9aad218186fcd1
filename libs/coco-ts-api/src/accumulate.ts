/**
 * pycocotools' accumulate(): per category, area range and maxDets, the detections of all images sorted
 * by score (stable), cumulative TP/FP, precision made monotone from the right and read at the recall
 * thresholds with a left binary search (−1 where a category has no non-ignored gt).
 *
 * It reads its input through an `AccumulateSource`: evaluate()'s codes (flat.ts), or evalImgs entries that were
 * set or read (merged shards, entries changed by hand), as pycocotools reads `self.evalImgs`.
 */
import type { EvalImg, EvalResult } from './eval-types';
import { cellOf, type FlatCells } from './flat';
import type { Params } from './params';
import { argsortDescStable } from './arrays';

/** One (category, area range)'s detections over the accumulated images, in pycocotools' concatenation order. */
export interface Gathered {
  n: number;
  /** Detection j's score at scores[off + j] and its rank in its image at rank[off + j]. */
  scores: Float64Array;
  rank: Int32Array;
  off: number;
  /** Its code at threshold t (1 tp, 0 fp, 2 ignored) at codes[codeOff + t · stride + j]. */
  codes: Uint8Array;
  codeOff: number;
  stride: number;
  /** Gts that are not ignored. */
  npig: number;
  /** Equal keys ≥ 0 within one accumulate() = the same detections and scores: the score order is reused. */
  sortKey: number;
}

export interface AccumulateSource {
  /** The entries of category k0 and area a0 (evaluate()'s indices) over the images iList, or null when none. */
  gather(k0: number, a0: number, iList: Int32Array, allImages: boolean): Gathered | null;
}

/** evaluate()'s cells and codes as a source: a category's detections are one block, shared by its area ranges. */
export function flatSource(f: FlatCells, codes: Uint8Array, npig: Int32Array, pe: Params): AccumulateSource {
  const T = pe.iouThrs.length;
  const A0 = pe.areaRng.length;
  return {
    gather(k0, a0, iList, allImages) {
      if (allImages) {
        const c0 = f.catCell0[k0];
        const c1 = f.catCell0[k0 + 1];
        if (c0 === c1) return null;
        let np = 0;
        for (let c = c0; c < c1; c++) np += npig[c * A0 + a0];
        const n = f.catD0[k0 + 1] - f.catD0[k0];
        const off = f.catD0[k0];
        return { n, scores: f.dScore, rank: f.dRank, off, codes, codeOff: T * A0 * off + a0 * T * n, stride: n, npig: np, sortKey: k0 };
      }
      const cells: number[] = [];
      for (let x = 0; x < iList.length; x++) {
        const c = cellOf(f, iList[x], k0);
        if (c >= 0) cells.push(c);
      }
      if (cells.length === 0) return null;
      let n = 0;
      let np = 0;
      for (const c of cells) {
        n += f.dN[c];
        np += npig[c * A0 + a0];
      }
      const scores = new Float64Array(n);
      const rank = new Int32Array(n);
      const out = new Uint8Array(T * n);
      const Dk = f.catD0[k0 + 1] - f.catD0[k0];
      const blk = T * A0 * f.catD0[k0] + a0 * T * Dk;
      let j = 0;
      for (const c of cells) {
        const D = f.dN[c];
        const d0 = f.d0[c];
        scores.set(f.dScore.subarray(d0, d0 + D), j);
        rank.set(f.dRank.subarray(d0, d0 + D), j);
        for (let t = 0; t < T; t++) {
          const from = blk + t * Dk + (d0 - f.catD0[k0]);
          out.set(codes.subarray(from, from + D), t * n + j);
        }
        j += D;
      }
      return { n, scores, rank, off: 0, codes: out, codeOff: 0, stride: n, npig: np, sortKey: k0 };
    },
  };
}

/** evalImgs entries as a source (pycocotools' tps / fps from dtMatches and dtIgnore). */
export function entriesSource(entries: readonly (EvalImg | null)[], pe: Params): AccumulateSource {
  const T = pe.iouThrs.length;
  const A0 = pe.areaRng.length;
  const I0 = pe.imgIds.length;
  return {
    gather(k0, a0, iList) {
      const E: EvalImg[] = [];
      for (let x = 0; x < iList.length; x++) {
        const e = entries[k0 * A0 * I0 + a0 * I0 + iList[x]];
        if (e) E.push(e);
      }
      if (E.length === 0) return null;
      let n = 0;
      let np = 0;
      for (const e of E) {
        n += e.dtScores.length;
        for (let g = 0; g < e.gtIgnore.length; g++) if (e.gtIgnore[g] === 0) np++;
      }
      const scores = new Float64Array(n);
      const rank = new Int32Array(n);
      const codes = new Uint8Array(T * n);
      let j = 0;
      for (const e of E) {
        const D = e.dtScores.length;
        for (let r = 0; r < D; r++) {
          scores[j + r] = e.dtScores[r];
          rank[j + r] = r;
          for (let t = 0; t < T; t++) codes[t * n + j + r] = e.dtIgnore[t * D + r] ? 2 : e.dtMatches[t * D + r] !== 0 ? 1 : 0;
        }
        j += D;
      }
      return { n, scores, rank, off: 0, codes, codeOff: 0, stride: n, npig: np, sortKey: -1 };
    },
  };
}

export function accumulateFrom(src: AccumulateSource, p: Params, pe: Params): EvalResult {
  const catIds = p.useCats ? p.catIds : [-1];
  const T = p.iouThrs.length;
  const R = p.recThrs.length;
  const K = p.useCats ? catIds.length : 1;
  const A = p.areaRng.length;
  const M = p.maxDets.length;
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const scores = new Float64Array(T * R * K * A * M).fill(-1);

  const setK = new Set(pe.useCats ? pe.catIds : [-1]);
  const setA = new Set(pe.areaRng.map((a) => `${a[0]},${a[1]}`));
  const setM = new Set(pe.maxDets);
  const setI = new Set(pe.imgIds);
  const kList = catIds.map((k, n) => (setK.has(k) ? n : -1)).filter((n) => n >= 0);
  const mList = p.maxDets.filter((m) => setM.has(m));
  const aList = p.areaRng.map((a, n) => (setA.has(`${a[0]},${a[1]}`) ? n : -1)).filter((n) => n >= 0);
  // pycocotools indexes evaluate()'s entries with positions in *these* params' imgIds (as it does).
  const iList = Int32Array.from(p.imgIds.map((i, n) => (setI.has(i) ? n : -1)).filter((n) => n >= 0));
  const allImages = iList.length === pe.imgIds.length && iList.every((v, n) => v === n);
  const recThrs = Float64Array.from(p.recThrs);
  let keep = new Int32Array(1024);
  let prAtTp = new Float64Array(1024);
  let posOfTp = new Int32Array(1024);
  let order = new Int32Array(1024);
  let tmp = new Int32Array(1024);
  const vOf = new Float64Array(R);
  let sortKey = -1;
  for (let k = 0; k < kList.length; k++) {
    const k0 = kList[k];
    for (let a = 0; a < aList.length; a++) {
      const a0 = aList[a];
      const g = src.gather(k0, a0, iList, allImages);
      if (!g || g.npig === 0) continue;
      const { n, off, rank, codes, codeOff, stride, npig } = g;
      const sc = g.scores;
      if (n + 2 > keep.length) {
        const size = Math.max(n + 2, 2 * keep.length);
        keep = new Int32Array(size);
        prAtTp = new Float64Array(size);
        posOfTp = new Int32Array(size);
        order = new Int32Array(size);
        tmp = new Int32Array(size);
        sortKey = -1;
      }
      // One stable sort by score for every maxDets: a smaller maxDets keeps each image's first maxDet, a
      // subsequence of the same stable order.
      if (g.sortKey < 0 || g.sortKey !== sortKey) {
        argsortDescStable(sc, off, n, order, tmp);
        sortKey = g.sortKey;
      }
      // Recall is tp / npig, so searchsorted(rc, thr, 'left') is the position of the v-th true positive, v the
      // least count with v / npig ≥ thr (position 0 for v = 0); Infinity where no count reaches thr.
      for (let ri = 0; ri < R; ri++) {
        const thr = recThrs[ri];
        let v = Math.max(0, Math.min(npig + 1, Math.ceil(thr * npig)));
        while (v > 0 && (v - 1) / npig >= thr) v--;
        while (v <= npig && v / npig < thr) v++;
        vOf[ri] = v > npig || Number.isNaN(thr) ? Infinity : v; // numpy sorts NaN last: past the curve
      }
      let maxRank = 0;
      for (let j = 0; j < n; j++) if (rank[off + j] > maxRank) maxRank = rank[off + j];
      // A maxDets no image reaches keeps every detection: its numbers are those of the first such maxDets.
      let uncut = -1;
      for (let m = 0; m < mList.length; m++) {
        const maxDet = mList[m];
        if (maxRank < maxDet && uncut >= 0) {
          for (let t = 0; t < T; t++) {
            recall[((t * K + k) * A + a) * M + m] = recall[((t * K + k) * A + a) * M + uncut];
            for (let ri = 0; ri < R; ri++) {
              const from = (((t * R + ri) * K + k) * A + a) * M;
              precision[from + m] = precision[from + uncut];
              scores[from + m] = scores[from + uncut];
            }
          }
          continue;
        }
        if (maxRank < maxDet) uncut = m;
        // The detections that survive this maxDets cut, in score order.
        let nd = 0;
        for (let j = 0; j < n; j++) {
          const d = order[j];
          if (rank[off + d] < maxDet) keep[nd++] = d;
        }
        for (let t = 0; t < T; t++) {
          const pBase = ((t * R * K + k) * A + a) * M + m;
          recall[((t * K + k) * A + a) * M + m] = curve(
            codes,
            codeOff + t * stride,
            keep,
            nd,
            npig,
            vOf,
            sc,
            off,
            prAtTp,
            posOfTp,
            precision,
            scores,
            pBase,
            K * A * M,
          );
        }
      }
    }
  }
  return { params: p, counts: [T, R, K, A, M], precision, recall, scores };
}

/**
 * One precision/recall curve (a threshold, a maxDets): the kept detections' codes at codes[row + keep[j]] in score
 * order; writes precision and scores at pBase + ri · pStride for every recall threshold and returns the recall.
 *
 * Precision tp / (fp + tp + eps) falls at every false positive and stays at an ignored detection, so its maximum
 * over positions ≥ i (pycocotools' envelope) is at i or at a later true positive: only the true positives'
 * precisions are computed, each with pycocotools' arithmetic, and their suffix maxima are the envelope.
 */
function curve(
  codes: Uint8Array,
  row: number,
  keep: Int32Array,
  nd: number,
  npig: number,
  vOf: Float64Array,
  sc: Float64Array,
  off: number,
  prAtTp: Float64Array,
  posOfTp: Int32Array,
  precision: Float64Array,
  scores: Float64Array,
  pBase: number,
  pStride: number,
): number {
  const eps = 2.220446049250313e-16; // np.spacing(1)
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < nd; j++) {
    const kd = codes[row + keep[j]];
    if (kd === 1) {
      tp++;
      prAtTp[tp] = tp / (fp + tp + eps);
      posOfTp[tp] = j;
    } else if (kd === 0) fp++;
  }
  prAtTp[tp + 1] = 0;
  for (let u = tp; u >= 1; u--) if (prAtTp[u + 1] > prAtTp[u]) prAtTp[u] = prAtTp[u + 1];
  const R = vOf.length;
  for (let ri = 0; ri < R; ri++) {
    const v = vOf[ri];
    if (nd === 0 || v > tp) {
      // pycocotools stops at the first threshold past the curve: the rest stay 0.
      for (let rj = ri; rj < R; rj++) {
        precision[pBase + rj * pStride] = 0;
        scores[pBase + rj * pStride] = 0;
      }
      break;
    }
    precision[pBase + ri * pStride] = prAtTp[v === 0 ? 1 : v];
    scores[pBase + ri * pStride] = sc[off + keep[v === 0 ? 0 : posOfTp[v]]];
  }
  return nd ? tp / npig : 0;
}
