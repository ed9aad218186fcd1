/**
 * evaluate()'s working data in flat arrays. pycocotools keeps a dict of (image, category) → annotation lists and
 * an evalImgs list of per-entry dicts; here the same information lives in a handful of typed arrays:
 *
 * - **Cells**: the (image, category) pairs that have a gt or a detection, numbered category-major (all cells of
 *   category 0 by ascending image index, then category 1, …). Cell c's gts are [g0[c], g0[c] + gN[c]) of the gt
 *   arrays (dataset order within the image), its detections [d0[c], d0[c] + dN[c]) of the detection arrays,
 *   ranked by score (a stable sort, as pycocotools' mergesort) and cut at the last maxDets. A category's
 *   detections are therefore one contiguous block, [catD0[k], catD0[k + 1]), in the order accumulate()
 *   concatenates them (image by image, rank by rank).
 * - **Codes**: what accumulate() reads of each match, one byte per (area, threshold, detection): 1 = true
 *   positive, 0 = false positive, 2 = ignored (pycocotools' `dtm != 0 and not dtIg`, `dtm == 0 and not dtIg`,
 *   `dtIg`). Category k's block starts at T·A·catD0[k] and is laid out [A][T][D_k].
 *
 * Without categories (useCats 0) there is one category (index 0) and a cell per image holding its gts and
 * detections of every evaluated category in catIds order, as pycocotools' evaluateImg gathers them.
 * The per-entry dicts (matches by id, ignore flags) are rebuilt on demand by re-running the matching of one
 * cell (`COCOeval.evalImgs`, `evalImgAt`): nothing else needs them.
 */
import { type CocoAnnotation, CocoError, type COCO } from './coco';

export interface FlatCells {
  /** Categories evaluated (1 without useCats). */
  C: number;
  nCells: number;
  cellImg: Int32Array;
  cellCat: Int32Array;
  g0: Int32Array;
  gN: Int32Array;
  d0: Int32Array;
  dN: Int32Array;
  /** [C + 1]: each category's first cell / first detection. */
  catCell0: Int32Array;
  catD0: Int32Array;
  /** The annotations in cell order (empty with boxes: everything evaluate() needs is in the arrays). */
  gAnn: CocoAnnotation[];
  gId: Float64Array;
  gArea: Float64Array;
  /** int(iscrowd). */
  gCrowd: Int32Array;
  /** pycocotools' gt 'ignore': iscrowd's truthiness (keypoints: or num_keypoints == 0). */
  gIgnore: Uint8Array;
  dAnn: CocoAnnotation[];
  dId: Float64Array;
  dArea: Float64Array;
  dScore: Float64Array;
  /** The detection's rank in its cell (0 = highest score). */
  dRank: Int32Array;
  /** With boxes: [x, y, w, h] of gt g at gBox[4g …], of detection d at dBox[4d …]. */
  gBox: Float64Array;
  dBox: Float64Array;
}

/** A number field of an annotation: numbers and booleans (Python's bool is an int), else one line naming it. */
export function annNumber(ann: CocoAnnotation, field: string, kind: string): number {
  const v = ann[field];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return Number(v);
  throw new CocoError(`${kind} annotation ${ann.id}: missing or non-numeric '${field}'`);
}

/** Indices [s, e) of `perm` put in descending score order, ties kept in place (a stable sort). */
function rankByScore(perm: Int32Array, s: number, e: number, score: Float64Array): void {
  if (e - s <= 48) {
    for (let i = s + 1; i < e; i++) {
      const v = perm[i];
      const sv = score[v];
      let j = i - 1;
      while (j >= s && score[perm[j]] < sv) {
        perm[j + 1] = perm[j];
        j--;
      }
      perm[j + 1] = v;
    }
    return;
  }
  // Array.prototype.sort is stable; `b - a` as pycocotools' argsort of −score.
  const part = Array.from(perm.subarray(s, e)).sort((a, b) => score[b] - score[a]);
  perm.set(part, s);
}

/** What one pass over an image's annotations collects: each annotation object is read once, into typed arrays. */
class Side {
  n = 0;
  ann: CocoAnnotation[] = [];
  cell: Int32Array;
  id: Float64Array;
  area: Float64Array;
  /** gts: iscrowd; detections: score. */
  num: Float64Array;
  /** gts: the iouType's own ignore rule. */
  extra: Uint8Array;
  box: Float64Array;
  /** Room for `max` annotations (the file's count: an upper bound). */
  constructor(max: number, boxes: boolean) {
    this.cell = new Int32Array(max);
    this.id = new Float64Array(max);
    this.area = new Float64Array(max);
    this.num = new Float64Array(max);
    this.extra = new Uint8Array(max);
    this.box = new Float64Array(boxes ? 4 * max : 0);
  }
}

/**
 * Gathers the evaluated images' gts and detections into cells (see the file comment). With `boxes` each
 * annotation's bbox is read (checked) into `gBox` / `dBox`; `extraIgnore` adds the iouType's own gt ignore rule.
 */
export function gatherCells(
  cocoGt: COCO,
  cocoDt: COCO,
  imgIds: readonly number[],
  catIds: readonly number[],
  useCats: boolean,
  maxDet: number,
  extraIgnore: ((ann: CocoAnnotation) => boolean) | null,
  boxes: boolean,
): FlatCells {
  const catPos = new Map<number, number>();
  catIds.forEach((id, i) => catPos.set(id, i));
  const C = useCats ? catIds.length : 1;
  const stampImg = new Int32Array(C).fill(-1);
  const stampCell = new Int32Array(C);
  const cellImgT: number[] = [];
  const cellCatT: number[] = [];
  const count = (coco: COCO) => imgIds.reduce((sum, id) => sum + (coco.imgToAnns.get(id)?.length ?? 0), 0);
  const gs = new Side(count(cocoGt), boxes);
  const ds = new Side(count(cocoDt), boxes);
  const none: CocoAnnotation[] = [];
  // Without categories an image's annotations are taken in catIds order (stable within a category).
  const byCatOrder = (list: CocoAnnotation[]): CocoAnnotation[] => {
    const kept = list.filter((a) => catPos.has(a.category_id));
    const pos = kept.map((a) => catPos.get(a.category_id)!);
    return kept
      .map((a, i) => [a, i] as const)
      .sort((x, y) => pos[x[1]] - pos[y[1]] || x[1] - y[1])
      .map((x) => x[0]);
  };
  for (let ii = 0; ii < imgIds.length; ii++) {
    const id = imgIds[ii];
    for (let side = 0; side < 2; side++) {
      const gt = side === 0;
      let list = (gt ? cocoGt : cocoDt).imgToAnns.get(id) ?? none;
      if (!useCats && list.length) list = byCatOrder(list);
      const S = gt ? gs : ds;
      const kind = gt ? 'ground-truth' : 'detection';
      for (let n = 0; n < list.length; n++) {
        const a = list[n];
        const pos = catPos.get(a.category_id);
        if (pos === undefined) continue;
        const ci = useCats ? pos : 0;
        if (stampImg[ci] !== ii) {
          stampImg[ci] = ii;
          stampCell[ci] = cellImgT.length;
          cellImgT.push(ii);
          cellCatT.push(ci);
        }
        const x = S.n++;
        if (!boxes) S.ann.push(a);
        S.cell[x] = stampCell[ci];
        S.id[x] = a.id;
        if (gt) {
          S.num[x] = annNumber(a, 'iscrowd', kind);
          S.area[x] = annNumber(a, 'area', kind);
          S.extra[x] = extraIgnore && extraIgnore(a) ? 1 : 0;
        } else {
          S.area[x] = annNumber(a, 'area', kind);
          S.num[x] = annNumber(a, 'score', kind);
        }
        if (boxes) {
          const bb = a.bbox;
          if (
            !Array.isArray(bb) ||
            bb.length !== 4 ||
            typeof bb[0] !== 'number' ||
            typeof bb[1] !== 'number' ||
            typeof bb[2] !== 'number' ||
            typeof bb[3] !== 'number'
          )
            throw new CocoError(`${kind} annotation ${a.id}: missing 'bbox' [x, y, w, h]`);
          S.box[4 * x] = bb[0];
          S.box[4 * x + 1] = bb[1];
          S.box[4 * x + 2] = bb[2];
          S.box[4 * x + 3] = bb[3];
        }
      }
    }
  }
  // Category-major numbering: cells were made in image order, so each category's stay by ascending image.
  const nCells = cellImgT.length;
  const catCell0 = new Int32Array(C + 1);
  for (let c = 0; c < nCells; c++) catCell0[cellCatT[c] + 1]++;
  for (let k = 0; k < C; k++) catCell0[k + 1] += catCell0[k];
  const fill = catCell0.slice(0, C);
  const newOf = new Int32Array(nCells);
  const cellImg = new Int32Array(nCells);
  const cellCat = new Int32Array(nCells);
  for (let c = 0; c < nCells; c++) {
    const nc = fill[cellCatT[c]]++;
    newOf[c] = nc;
    cellImg[nc] = cellImgT[c];
    cellCat[nc] = cellCatT[c];
  }
  // Ground truth, scattered into cell order (a stable counting sort: dataset order within a cell).
  const g0 = new Int32Array(nCells);
  const gN = new Int32Array(nCells);
  const nG = gs.n;
  for (let n = 0; n < nG; n++) gN[newOf[gs.cell[n]]]++;
  for (let c = 1; c < nCells; c++) g0[c] = g0[c - 1] + gN[c - 1];
  const gFill = g0.slice();
  const gPerm = new Int32Array(nG);
  for (let n = 0; n < nG; n++) gPerm[gFill[newOf[gs.cell[n]]]++] = n;
  const gAnn: CocoAnnotation[] = [];
  const gId = new Float64Array(nG);
  const gArea = new Float64Array(nG);
  const gCrowd = new Int32Array(nG);
  const gIgnore = new Uint8Array(nG);
  const gBox = new Float64Array(boxes ? 4 * nG : 0);
  for (let g = 0; g < nG; g++) {
    const n = gPerm[g];
    if (!boxes) gAnn.push(gs.ann[n]);
    gId[g] = gs.id[n];
    gArea[g] = gs.area[n];
    // pycocotools overwrites any 'ignore' key with the truthiness of iscrowd, but the IoU and the matching take
    // int(iscrowd): 0.5 is ignored yet no crowd, 2 and true are crowds.
    const iscrowd = gs.num[n];
    gCrowd[g] = Math.trunc(iscrowd);
    gIgnore[g] = iscrowd || gs.extra[n] ? 1 : 0;
    if (boxes) for (let q = 0; q < 4; q++) gBox[4 * g + q] = gs.box[4 * n + q];
  }
  // Detections: scattered the same way, ranked by score within each cell, cut at maxDet.
  const nAll = ds.n;
  const allN = new Int32Array(nCells);
  for (let n = 0; n < nAll; n++) allN[newOf[ds.cell[n]]]++;
  const all0 = new Int32Array(nCells);
  for (let c = 1; c < nCells; c++) all0[c] = all0[c - 1] + allN[c - 1];
  const dFill = all0.slice();
  const perm = new Int32Array(nAll);
  for (let n = 0; n < nAll; n++) perm[dFill[newOf[ds.cell[n]]]++] = n;
  const scoreT = ds.num;
  const d0 = new Int32Array(nCells);
  const dN = new Int32Array(nCells);
  let nD = 0;
  for (let c = 0; c < nCells; c++) {
    if (allN[c] > 1) rankByScore(perm, all0[c], all0[c] + allN[c], scoreT);
    d0[c] = nD;
    dN[c] = Math.min(allN[c], maxDet);
    nD += dN[c];
  }
  const catD0 = new Int32Array(C + 1);
  for (let k = 0; k < C; k++) catD0[k + 1] = catCell0[k + 1] > catCell0[k] ? d0[catCell0[k + 1] - 1] + dN[catCell0[k + 1] - 1] : catD0[k];
  const dAnn: CocoAnnotation[] = [];
  const dId = new Float64Array(nD);
  const dArea = new Float64Array(nD);
  const dScore = new Float64Array(nD);
  const dRank = new Int32Array(nD);
  const dBox = new Float64Array(boxes ? 4 * nD : 0);
  for (let c = 0; c < nCells; c++) {
    for (let r = 0, s = all0[c], o = d0[c]; r < dN[c]; r++) {
      const n = perm[s + r];
      if (!boxes) dAnn.push(ds.ann[n]);
      dId[o + r] = ds.id[n];
      dScore[o + r] = scoreT[n];
      dArea[o + r] = ds.area[n];
      dRank[o + r] = r;
      if (boxes) for (let q = 0; q < 4; q++) dBox[4 * (o + r) + q] = ds.box[4 * n + q];
    }
  }
  return { C, nCells, cellImg, cellCat, g0, gN, d0, dN, catCell0, catD0, gAnn, gId, gArea, gCrowd, gIgnore, gBox, dAnn, dId, dArea, dScore, dRank, dBox };
}

/** The cell of (image index, category index), or −1: a binary search among the category's cells. */
export function cellOf(f: FlatCells, ii: number, ci: number): number {
  let lo = f.catCell0[ci];
  let hi = f.catCell0[ci + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = f.cellImg[mid];
    if (v === ii) return mid;
    if (v < ii) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Scratch buffers of `matchCodes`, grown as cells need. */
export class MatchScratch {
  ig = new Uint8Array(64);
  order = new Int32Array(64);
  gtm = new Float64Array(64);
  outside = new Uint8Array(64);
  fit(G: number, D: number): void {
    if (G > this.ig.length) {
      const n = Math.max(G, 2 * this.ig.length);
      this.ig = new Uint8Array(n);
      this.order = new Int32Array(n);
      this.gtm = new Float64Array(n);
    }
    if (D > this.outside.length) this.outside = new Uint8Array(Math.max(D, 2 * this.outside.length));
  }
}

/**
 * pycocotools' evaluateImg for cell c and area range [lo, hi], as codes (see the file comment): greedy matching
 * in score order at each IoU threshold (`thrs`: pycocotools' min(t, 1 − 1e−10)), regular gts before ignored ones (a stable partition), crowds matched
 * any number of times, unmatched detections outside the area range ignored. Writes code (t, d) at
 * codes[out + t·stride + d]; returns the number of non-ignored gts.
 */
export function matchCodes(
  f: FlatCells,
  c: number,
  ious: Float64Array | null,
  lo: number,
  hi: number,
  thrs: readonly number[],
  codes: Uint8Array,
  out: number,
  stride: number,
  s: MatchScratch,
): number {
  const G = f.gN[c];
  const D = f.dN[c];
  const gb = f.g0[c];
  const db = f.d0[c];
  const T = thrs.length;
  const { gIgnore, gArea, gCrowd, gId, dId, dArea } = f;
  s.fit(G, D);
  const { ig, order, gtm, outside } = s;
  let npig = 0;
  let sorted = true;
  for (let i = 0; i < G; i++) {
    const a = gArea[gb + i];
    const v = gIgnore[gb + i] || a < lo || a > hi ? 1 : 0;
    ig[i] = v;
    if (v === 0) npig++;
    if (i > 0 && v < ig[i - 1]) sorted = false;
  }
  if (sorted) {
    for (let i = 0; i < G; i++) order[i] = i;
  } else {
    let r = 0;
    let q = npig;
    for (let i = 0; i < G; i++) {
      if (ig[i] === 0) order[r++] = i;
      else order[q++] = i;
    }
    for (let i = 0; i < G; i++) ig[i] = i < npig ? 0 : 1;
  }
  for (let d = 0; d < D; d++) {
    const a = dArea[db + d];
    outside[d] = a >= lo && a <= hi ? 0 : 1;
  }
  for (let t = 0; t < T; t++) {
    const row = out + t * stride;
    if (!ious) {
      for (let d = 0; d < D; d++) codes[row + d] = outside[d] === 1 ? 2 : 0;
      continue;
    }
    const thr = thrs[t];
    for (let i = 0; i < G; i++) gtm[i] = 0;
    for (let d = 0; d < D; d++) {
      let best = thr;
      let m = -1;
      const base = d * G;
      for (let gi = 0; gi < G; gi++) {
        const orig = order[gi];
        if (gtm[gi] > 0 && gCrowd[gb + orig] === 0) continue; // a regular gt already matched
        if (m > -1 && ig[m] === 0 && ig[gi] === 1) break; // a regular match found; the rest are ignored gts
        const v = ious[base + orig];
        if (v < best) continue;
        best = v;
        m = gi;
      }
      if (m === -1) {
        codes[row + d] = outside[d] === 1 ? 2 : 0;
        continue;
      }
      gtm[m] = dId[db + d];
      const matched = gId[gb + order[m]];
      // dtIg = gtIg[m], or (unmatched by id 0) outside the range; tp = dtm ≠ 0 and not dtIg.
      codes[row + d] = ig[m] === 1 || (matched === 0 && outside[d] === 1) ? 2 : matched !== 0 ? 1 : 0;
    }
  }
  return npig;
}
