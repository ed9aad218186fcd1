/**
 * pycocotools' accumulate(): per category, area range and maxDets, the detections of all images sorted
 * by score (stable), cumulative TP/FP, precision made monotone from the right and read at the recall
 * thresholds with a left binary search (−1 where a category has no non-ignored gt).
 */
import type { EvalResult } from './eval-types';
import type { EvalStore } from './eval-store';
import type { Params } from './params';

export function accumulateEvalImgs(st: EvalStore, p: Params, pe: Params): EvalResult {
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
  const iList = p.imgIds.map((i, n) => (setI.has(i) ? n : -1)).filter((n) => n >= 0);
  const I0 = pe.imgIds.length;
  const A0 = pe.areaRng.length;
  const eps = 2.220446049250313e-16; // np.spacing(1)
  kList.forEach((k0, k) => {
    // The detections of a category are the same in every area range (only their ignore flags differ), so
    // their score order is computed once per category and reused: the same stable order as one sort each.
    let shared: { images: number[]; lengths: number[]; owner: Int32Array; pos: Int32Array; sc: Float64Array; fullOrder: Uint32Array } | null = null;
    aList.forEach((a0, a) => {
      const E: number[] = []; // slots
      const images: number[] = [];
      for (const i of iList) {
        const s = st.slotOfEntry[k0 * A0 * I0 + a0 * I0 + i];
        if (s >= 0) {
          E.push(s);
          images.push(i);
        }
      }
      if (E.length === 0) return;
      let npig = 0;
      for (const s of E) for (let g = st.gIgOff[s], end = g + st.G[s]; g < end; g++) if (st.gtIg[g] === 0) npig++;
      if (npig === 0) return;
      // Every image's ranked detections, concatenated in image order, then one stable sort by score.
      // A smaller maxDets keeps each image's first maxDet: a subsequence of the same stable order.
      if (!shared || shared.images.length !== images.length || shared.images.some((v, n) => v !== images[n] || st.D[E[n]] !== shared!.lengths[n])) {
        let total = 0;
        for (const s of E) total += st.D[s];
        const owner = new Int32Array(total);
        const pos = new Int32Array(total);
        const sc = new Float64Array(total);
        let n = 0;
        E.forEach((s, ei) => {
          const D = st.D[s];
          const o = st.sOff[s];
          for (let j = 0; j < D; j++, n++) {
            owner[n] = ei;
            pos[n] = j;
            sc[n] = st.scores[o + j];
          }
        });
        const fullOrder = Uint32Array.from({ length: total }, (_, x) => x).sort((x, y) => sc[y] - sc[x] || x - y);
        shared = { images, lengths: E.map((s) => st.D[s]), owner, pos, sc, fullOrder };
      }
      const { owner, pos, sc, fullOrder } = shared;
      // Per threshold, each detection (in sorted order) as 1 = true positive, 2 = false positive, 0 = ignored.
      const total = fullOrder.length;
      const kind = new Uint8Array(T * total);
      const { dtIg, dtm } = st;
      for (let j = 0; j < total; j++) {
        const s = E[owner[fullOrder[j]]];
        const D = st.D[s];
        const base = st.dOff[s] + pos[fullOrder[j]];
        for (let t = 0; t < T; t++) {
          if (dtIg[base + t * D]) continue;
          kind[t * total + j] = dtm[base + t * D] !== 0 ? 1 : 2;
        }
      }
      let maxPos = 0;
      for (let j = 0; j < total; j++) if (pos[j] > maxPos) maxPos = pos[j];
      const rc = new Float64Array(total);
      const pr = new Float64Array(total);
      // A maxDets no image reaches keeps every detection: its numbers are those of the first such maxDets.
      let uncut = -1;
      mList.forEach((maxDet, m) => {
        if (maxPos < maxDet && uncut >= 0) {
          for (let t = 0; t < T; t++) {
            recall[((t * K + k) * A + a) * M + m] = recall[((t * K + k) * A + a) * M + uncut];
            for (let ri = 0; ri < R; ri++) {
              const from = (((t * R + ri) * K + k) * A + a) * M;
              precision[from + m] = precision[from + uncut];
              scores[from + m] = scores[from + uncut];
            }
          }
          return;
        }
        if (maxPos < maxDet) uncut = m;
        // Positions in fullOrder that survive this maxDets cut (all of them when no image has more).
        let keep: Int32Array | null = null;
        let nd = total;
        if (maxPos >= maxDet) {
          keep = new Int32Array(total);
          nd = 0;
          for (let j = 0; j < total; j++) if (pos[fullOrder[j]] < maxDet) keep[nd++] = j;
        }
        for (let t = 0; t < T; t++) {
          let tp = 0;
          let fp = 0;
          const row = t * total;
          for (let j = 0; j < nd; j++) {
            const kd = kind[row + (keep ? keep[j] : j)];
            if (kd === 1) tp++;
            else if (kd === 2) fp++;
            rc[j] = tp / npig;
            pr[j] = tp / (fp + tp + eps);
          }
          recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1] : 0;
          for (let i = nd - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          let pi = 0;
          for (let ri = 0; ri < R; ri++) {
            while (pi < nd && rc[pi] < p.recThrs[ri]) pi++; // searchsorted(rc, thr, 'left')
            const idx = (((t * R + ri) * K + k) * A + a) * M + m;
            if (pi >= nd) {
              for (let rj = ri; rj < R; rj++) {
                const j2 = (((t * R + rj) * K + k) * A + a) * M + m;
                precision[j2] = 0;
                scores[j2] = 0;
              }
              break;
            }
            precision[idx] = pr[pi];
            scores[idx] = sc[fullOrder[keep ? keep[pi] : pi]];
          }
        }
      });
    });
  });
  return { params: p, counts: [T, R, K, A, M], precision, recall, scores };
}
