/**
 * pycocotools' evalImgs entries, made on demand: `matchInto` runs evaluateImg's matching for one cell and area
 * range into a store whose blocks are views of shared arenas, and `slotEvalImg` makes the entry object of them.
 * evaluate() itself keeps only one byte per match (flat.ts); entries exist only when someone reads
 * `COCOeval.evalImgs`, `evalImgAt` or `evaluateImg`.
 */
import type { Cell, EvalImg } from './eval-types';
import { argsortStable } from './arrays';

/** Entry n = (category · A + area) · I + image, as pycocotools orders evalImgs. */
export interface EvalStore {
  T: number;
  /** Entry → slot, −1 where pycocotools has None. */
  slotOfEntry: Int32Array;
  /** Per slot: detections and gts, where the slot's [T, D] / [T, G] / [G] / [D] blocks start. */
  D: Int32Array;
  G: Int32Array;
  dOff: Int32Array;
  gOff: Int32Array;
  gIgOff: Int32Array;
  sOff: Int32Array;
  /** [T, D] per slot: id of the matched gt (0 = none), and ignore flags. */
  dtm: Float64Array;
  dtIg: Uint8Array;
  /** [T, G] per slot: id of the matched detection. */
  gtm: Float64Array;
  /** [G] per slot, in the entry's gt order (regular gts first). */
  gtIg: Uint8Array;
  /** [D] detection scores in rank order (shared by the slots of one cell). */
  scores: Float64Array;
}

/**
 * A store for one entry whose blocks are views of shared arenas (zero-filled, never handed out twice) and whose
 * per-slot bookkeeping is `books` (read right after matching, so it may be reused from entry to entry).
 */
export function oneEntryStore(
  T: number,
  D: number,
  G: number,
  f64: { take(n: number): Float64Array },
  u8: { take(n: number): Uint8Array },
  books: Pick<EvalStore, 'slotOfEntry' | 'D' | 'G' | 'dOff' | 'gOff' | 'gIgOff' | 'sOff'>,
): EvalStore {
  return { T, ...books, dtm: f64.take(T * D), dtIg: u8.take(T * D), gtm: f64.take(T * G), gtIg: u8.take(G), scores: EMPTY_SCORES };
}

const EMPTY_SCORES = new Float64Array(0);

/** Bookkeeping arrays for `oneEntryStore` (one slot). */
export const oneEntryBooks = (): Pick<EvalStore, 'slotOfEntry' | 'D' | 'G' | 'dOff' | 'gOff' | 'gIgOff' | 'sOff'> => ({
  slotOfEntry: new Int32Array(1),
  D: new Int32Array(1),
  G: new Int32Array(1),
  dOff: new Int32Array(1),
  gOff: new Int32Array(1),
  gIgOff: new Int32Array(1),
  sOff: new Int32Array(1),
});

/** Where the next slot's blocks go. */
export interface StoreCursor {
  slot: number;
  d: number;
  g: number;
}

/**
 * pycocotools' evaluateImg for one cell and area range, written into slot `cur.slot`: greedy matching in score
 * order at each IoU threshold, regular gts before ignored ones, crowds matched many times, unmatched detections
 * outside the area range ignored. Returns the gt order when ignored gts had to move behind regular ones
 * (null in the common case, where the cell's order already is that).
 */
export function matchInto(
  st: EvalStore,
  cur: StoreCursor,
  cell: Cell,
  aRng: readonly [number, number],
  iouThrs: readonly number[],
  sOff: number,
): Int32Array | null {
  const s = cur.slot;
  const T = iouThrs.length;
  const G = cell.gts.length;
  const D = cell.dts.length;
  const gIg = cur.g;
  const gO = cur.g * T;
  const dO = cur.d * T;
  st.D[s] = D;
  st.G[s] = G;
  st.dOff[s] = dO;
  st.gOff[s] = gO;
  st.gIgOff[s] = gIg;
  st.sOff[s] = sOff;
  cur.slot++;
  cur.d += D;
  cur.g += G;
  const { gtIg, gtm, dtm, dtIg } = st;
  let sorted = true; // already "regular first"? (the common case: no sort)
  for (let i = 0; i < G; i++) {
    const g = cell.gts[i];
    gtIg[gIg + i] = g.ignore || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0;
    if (i > 0 && gtIg[gIg + i] < gtIg[gIg + i - 1]) sorted = false;
  }
  let order: Int32Array | null = null;
  if (!sorted) {
    const ignoreOf = gtIg.slice(gIg, gIg + G);
    order = Int32Array.from(argsortStable(G, (i) => ignoreOf[i])); // regular first, stable
    for (let i = 0; i < G; i++) gtIg[gIg + i] = ignoreOf[order[i]];
  }
  const ious = cell.ious;
  if (ious) {
    const gts = cell.gts;
    for (let tind = 0; tind < T; tind++) {
      const t = iouThrs[tind];
      const gRow = gO + tind * G;
      const dRow = dO + tind * D;
      for (let dind = 0; dind < D; dind++) {
        let best = Math.min(t, 1 - 1e-10);
        let m = -1;
        const row = dind * G;
        for (let gind = 0; gind < G; gind++) {
          const orig = order ? order[gind] : gind;
          if (gtm[gRow + gind] > 0 && !gts[orig].iscrowd) continue; // matched regular gt
          if (m > -1 && gtIg[gIg + m] === 0 && gtIg[gIg + gind] === 1) break; // have a regular match; the rest are ignored gts
          const v = ious[row + orig];
          if (v < best) continue;
          best = v;
          m = gind;
        }
        if (m === -1) continue;
        dtIg[dRow + dind] = gtIg[gIg + m];
        dtm[dRow + dind] = cell.gts[order ? order[m] : m].id;
        gtm[gRow + m] = cell.dts[dind].id;
      }
    }
  }
  for (let dind = 0; dind < D; dind++) {
    const a = cell.dts[dind].area;
    if (a >= aRng[0] && a <= aRng[1]) continue;
    for (let t = 0; t < T; t++) if (dtm[dO + t * D + dind] === 0) dtIg[dO + t * D + dind] = 1;
  }
  return order;
}

/** A cell's detection ids and scores (rank order) and gt ids, made once and shared by its entries. */
export function cellIds(cell: Cell): NonNullable<Cell['ids']> {
  cell.ids ??= { dtIds: cell.dts.map((x) => x.id), dtScores: cell.dts.map((x) => x.score), gtIds: cell.gts.map((x) => x.id) };
  return cell.ids;
}

/** The `EvalImg` of a slot: views of the store's buffers, ids and scores from its cell. */
export function slotEvalImg(
  st: EvalStore,
  s: number,
  cell: Cell,
  order: Int32Array | undefined,
  meta: { image_id: number; category_id: number; aRng: [number, number]; maxDet: number },
): EvalImg {
  const { T } = st;
  const D = st.D[s];
  const G = st.G[s];
  const ids = cellIds(cell);
  return {
    image_id: meta.image_id,
    category_id: meta.category_id,
    aRng: meta.aRng,
    maxDet: meta.maxDet,
    dtIds: ids.dtIds,
    gtIds: order ? Array.from(order, (i) => ids.gtIds[i]) : ids.gtIds,
    dtMatches: st.dtm.subarray(st.dOff[s], st.dOff[s] + T * D),
    gtMatches: st.gtm.subarray(st.gOff[s], st.gOff[s] + T * G),
    dtScores: ids.dtScores,
    gtIgnore: st.gtIg.subarray(st.gIgOff[s], st.gIgOff[s] + G),
    dtIgnore: st.dtIg.subarray(st.dOff[s], st.dOff[s] + T * D),
  };
}
