/**
 * COCOeval for `bbox`, `segm` and `keypoints`, a port of pycocotools' cocoeval.py that reproduces its numbers
 * exactly: the same stable sorts, greedy matching, crowd handling, area rules and float64 arithmetic (OKS
 * included, up to `Math.exp` against numpy's exp: at most one unit in the last place).
 */
import { type CocoAnnotation, CocoError, type COCO } from './coco';
import { type Bbox, countsMark, countsRelease, type Runs, runsBboxInto } from './mask';
import { bboxIouInto, MaskScratch, oksInto, runsIouInto } from './iou';
import { accumulateFrom, entriesSource, flatSource } from './accumulate';
import { annNumber, cellOf, type FlatCells, gatherCells, MatchScratch, matchCodes } from './flat';
import { apGrid, perCategoryAP } from './per-category';
import { summarizeOne, summaryLines } from './summary';
import { matchInto, oneEntryBooks, oneEntryStore, slotEvalImg } from './eval-store';
import { Arena } from './arrays';
import { IOU_TYPES, type IouType, Params } from './params';
import type { CategoryAP, Cell, DtRec, EvalImg, EvalResult, GtRec } from './eval-types';

export type { CategoryAP, EvalImg, EvalResult } from './eval-types';

export { evalRow } from './eval-types';

const boxAt = (flat: Float64Array, i: number): Bbox => [flat[4 * i], flat[4 * i + 1], flat[4 * i + 2], flat[4 * i + 3]];

/**
 * Evaluates detections against ground truth like pycocotools' COCOeval.
 *
 * @example
 * const E = new COCOeval(gt, gt.loadRes(detections), 'bbox');
 * E.evaluate(); E.accumulate();
 * const stats = E.summarize(); // 12 numbers; prints pycocotools' 12 lines
 */
export class COCOeval {
  params: Params;
  eval: EvalResult | null = null;
  stats: number[] = [];
  private paramsEval: Params | null = null;
  /** evaluate()'s cells and codes (flat.ts); the per-entry objects are made from them on demand. */
  private flat: FlatCells | null = null;
  private codes: Uint8Array | null = null;
  /** Non-ignored gts per cell and area range, [cell · A + a]. */
  private npig: Int32Array | null = null;
  private gGeo: (Runs | number[])[] = [];
  private dGeo: (Runs | number[])[] = [];
  private gBox: Bbox[] = [];
  private maskScratch = new MaskScratch();
  /** Arrays of the entries made on demand: views of a few large buffers (one buffer each costs more). */
  private f64 = new Arena((n) => new Float64Array(n));
  private u8 = new Arena((n) => new Uint8Array(n));
  private books = oneEntryBooks();
  private cellObjects = new Map<number, Cell>();
  /** The area ranges evaluate() used (the same arrays, as pycocotools' entries hold them). */
  private evalAreaRng: [number, number][] = [];
  /** evalImgs entries once read or set (accumulate() then reads these). */
  private entries: (EvalImg | null)[] | null = null;

  constructor(
    readonly cocoGt: COCO,
    readonly cocoDt: COCO,
    iouType: IouType | string = 'segm',
  ) {
    if (!IOU_TYPES.includes(iouType as IouType)) throw new CocoError(`unknown iouType '${iouType}'; use one of: ${IOU_TYPES.join(', ')}`);
    this.params = new Params(iouType as IouType);
    this.params.imgIds = [...cocoGt.getImgIds()].sort((a, b) => a - b);
    this.params.catIds = [...cocoGt.getCatIds()].sort((a, b) => a - b);
  }

  /** Validated geometry of an annotation: its mask as runs, or its keypoints (boxes are read by gatherCells). */
  private geometry(ann: CocoAnnotation, coco: COCO, kind: string): Runs | number[] {
    if (this.params.iouType === 'keypoints') {
      const k = this.params.kpt_oks_sigmas.length;
      const kps = ann.keypoints;
      if (!Array.isArray(kps) || kps.length !== 3 * k || kps.some((v) => typeof v !== 'number')) {
        throw new CocoError(
          `${kind} annotation ${ann.id}: 'keypoints' must be ${3 * k} numbers ([x, y, v] for each of the ${k} keypoints that params.kpt_oks_sigmas has; got ${Array.isArray(kps) ? kps.length : 'none'}); set kpt_oks_sigmas for other skeletons`,
        );
      }
      return kps as number[];
    }
    try {
      return coco.annToRuns(ann);
    } catch (e) {
      throw e instanceof CocoError ? e : new CocoError(`${kind} annotation ${ann.id}: ${(e as Error).message}`);
    }
  }

  /** Throws what reading the annotation's mask would (segm), without reading it. */
  private checkMask(ann: CocoAnnotation, coco: COCO, kind: string): void {
    try {
      coco.checkSegmentation(ann);
    } catch (e) {
      throw e instanceof CocoError ? e : new CocoError(`${kind} annotation ${ann.id}: ${(e as Error).message}`);
    }
  }

  /** A keypoint gt's box (the OKS of a person without visible keypoints uses it). */
  private keypointBox(ann: CocoAnnotation): Bbox {
    const bb = ann.bbox;
    if (!Array.isArray(bb) || bb.length !== 4 || bb.some((v) => typeof v !== 'number'))
      throw new CocoError(`ground-truth annotation ${ann.id}: missing 'bbox' [x, y, w, h] (the OKS of a person without visible keypoints uses it)`);
    return bb as Bbox;
  }

  /** Gathers the cells (flat.ts) and every kept annotation's geometry. */
  private prepare(): void {
    const p = this.params;
    const catIds = p.catIds;
    const maxDet = p.maxDets[p.maxDets.length - 1];
    const kp = p.iouType === 'keypoints';
    const boxes = p.iouType === 'bbox';
    const extraIgnore = kp ? (a: CocoAnnotation) => annNumber(a, 'num_keypoints', 'ground-truth') === 0 : null;
    const f = gatherCells(this.cocoGt, this.cocoDt, p.imgIds, catIds, !!p.useCats, maxDet, extraIgnore, boxes);
    // Boxes are in the cells already; masks and keypoints are read here.
    this.flat = f;
    this.gBox = kp ? f.gAnn.map((a) => this.keypointBox(a)) : [];
    this.gGeo = [];
    this.dGeo = [];
    if (kp) {
      this.gGeo = f.gAnn.map((a) => this.geometry(a, this.cocoGt, 'ground-truth'));
      this.dGeo = f.dAnn.map((a) => this.geometry(a, this.cocoDt, 'detection'));
    } else if (!boxes) {
      // Masks are read cell by cell in evaluate(), only where a cell has both sides (pycocotools reads the rest
      // too, but never uses them); the others are checked as reading them would check them.
      for (let c = 0; c < f.nCells; c++) {
        if (f.gN[c] > 0 && f.dN[c] > 0) continue;
        for (let g = f.g0[c]; g < f.g0[c] + f.gN[c]; g++) this.checkMask(f.gAnn[g], this.cocoGt, 'ground-truth');
        for (let d = f.d0[c]; d < f.d0[c] + f.dN[c]; d++) this.checkMask(f.dAnn[d], this.cocoDt, 'detection');
      }
    }
    this.cellObjects = new Map();
  }

  /** IoUs of cell c, [D·G] row-major, into `out` (null when either side is empty). */
  private cellIou(c: number, out: Float64Array): Float64Array | null {
    const f = this.flat!;
    const G = f.gN[c];
    const D = f.dN[c];
    if (G === 0 || D === 0) return null;
    const g0 = f.g0[c];
    const d0 = f.d0[c];
    if (this.params.iouType === 'bbox') return bboxIouInto(f.dBox, d0, D, f.gBox, g0, G, f.gCrowd, out);
    if (this.params.iouType === 'keypoints')
      return oksInto(
        this.dGeo.slice(d0, d0 + D) as number[][],
        this.gGeo.slice(g0, g0 + G) as number[][],
        this.gBox.slice(g0, g0 + G),
        f.gArea.subarray(g0, g0 + G),
        this.params.kpt_oks_sigmas,
        out,
      );
    // segm: the cell's masks are read into room that is given back afterwards (a set's masks never all live at
    // once: no garbage, no collections during evaluate()); box and area once per mask.
    const sc = this.maskScratch.fit(G, D);
    const mark = countsMark();
    try {
      for (let g = 0; g < G; g++) {
        const r = (sc.gRuns[g] = this.geometry(f.gAnn[g0 + g], this.cocoGt, 'ground-truth') as Runs);
        sc.gArea[g] = runsBboxInto(r, sc.gBox, 4 * g);
        sc.crowd[g] = f.gCrowd[g0 + g];
      }
      for (let d = 0; d < D; d++) {
        const r = (sc.dRuns[d] = this.geometry(f.dAnn[d0 + d], this.cocoDt, 'detection') as Runs);
        sc.dArea[d] = runsBboxInto(r, sc.dBox, 4 * d);
      }
      return runsIouInto(sc.dRuns, 0, D, sc.gRuns, 0, G, sc.crowd, sc.dBox, sc.gBox, sc.dArea, sc.gArea, out);
    } finally {
      countsRelease(mark);
    }
  }

  /** Cell c as records with their IoUs (for evalImgs entries and evaluateImg), made once. */
  private cellObject(c: number): Cell {
    let cell = this.cellObjects.get(c);
    if (cell) return cell;
    const f = this.flat!;
    const key = this.params.iouType === 'bbox' ? 'bbox' : this.params.iouType === 'segm' ? 'runs' : 'kps';
    const gts: GtRec[] = [];
    for (let g = f.g0[c]; g < f.g0[c] + f.gN[c]; g++) {
      const rec: GtRec = {
        id: f.gId[g],
        area: f.gArea[g],
        iscrowd: f.gCrowd[g],
        ignore: f.gIgnore[g] === 1,
        ...(key === 'bbox' ? { bbox: boxAt(f.gBox, g) } : key === 'kps' ? { kps: this.gGeo[g] as number[] } : {}),
      };
      if (key === 'kps') rec.bbox = this.gBox[g];
      gts.push(rec);
    }
    const dts: DtRec[] = [];
    for (let d = f.d0[c]; d < f.d0[c] + f.dN[c]; d++)
      dts.push({
        id: f.dId[d],
        area: f.dArea[d],
        score: f.dScore[d],
        ...(key === 'bbox' ? { bbox: boxAt(f.dBox, d) } : key === 'kps' ? { kps: this.dGeo[d] as number[] } : {}),
      });
    const ious = this.cellIou(c, this.f64.take(gts.length * dts.length));
    cell = { gts, dts, ious };
    this.cellObjects.set(c, cell);
    return cell;
  }

  /** Per image and category: match detections to ground truth at every IoU threshold and area range. */
  evaluate(): void {
    const p = this.params;
    p.imgIds = [...new Set(p.imgIds)].sort((a, b) => a - b);
    if (p.useCats) p.catIds = [...new Set(p.catIds)].sort((a, b) => a - b);
    const bad = p.maxDets.find((d) => !(Number.isInteger(d) && d >= 0));
    if (bad !== undefined)
      throw new CocoError(
        `params.maxDets holds ${bad}: maxDets are numbers of detections kept per image, whole numbers ≥ 0 (e.g. [1, 10, 100]); pycocotools would slice the score lists with it (dtScores[0:${bad}]), which is not a limit, so coco-ts-api refuses it`,
      );
    p.maxDets = [...p.maxDets].sort((a, b) => a - b);
    // Until this evaluation completes there is none to accumulate (a refused file leaves no half state behind).
    this.paramsEval = null;
    this.eval = null;
    this.entries = null;
    this.prepare();
    const f = this.flat!;
    const A = p.areaRng.length;
    const T = p.iouThrs.length;
    const codes = new Uint8Array(T * A * f.catD0[f.C]);
    const npig = new Int32Array(f.nCells * A);
    const scratch = new MatchScratch();
    const thrs = p.iouThrs.map((t) => Math.min(t, 1 - 1e-10));
    const lo = Float64Array.from(p.areaRng, (r) => r[0]);
    const hi = Float64Array.from(p.areaRng, (r) => r[1]);
    let iou = new Float64Array(256);
    for (let c = 0; c < f.nCells; c++) {
      const DG = f.dN[c] * f.gN[c];
      if (DG > iou.length) iou = new Float64Array(Math.max(DG, 2 * iou.length));
      const ious = this.cellIou(c, iou);
      const k = f.cellCat[c];
      const Dk = f.catD0[k + 1] - f.catD0[k];
      const base = T * A * f.catD0[k] + (f.d0[c] - f.catD0[k]);
      for (let a = 0; a < A; a++) npig[c * A + a] = matchCodes(f, c, ious, lo[a], hi[a], thrs, codes, base + a * T * Dk, Dk, scratch);
    }
    this.codes = codes;
    this.npig = npig;
    this.entries = null;
    this.evalAreaRng = p.areaRng;
    this.paramsEval = p.clone();
  }

  /** The evalImgs entry of cell c at area index a (the matching of that cell, re-run into its own arrays). */
  private entryOf(c: number, a: number): EvalImg {
    const p = this.paramsEval!;
    const f = this.flat!;
    const cell = this.cellObject(c);
    const T = p.iouThrs.length;
    const st = oneEntryStore(T, cell.dts.length, cell.gts.length, this.f64, this.u8, this.books);
    const aRng = this.evalAreaRng[a];
    const order = matchInto(st, { slot: 0, d: 0, g: 0 }, cell, aRng, p.iouThrs, 0);
    return slotEvalImg(st, 0, cell, order ?? undefined, {
      image_id: p.imgIds[f.cellImg[c]],
      category_id: p.useCats ? p.catIds[f.cellCat[c]] : -1,
      aRng,
      maxDet: p.maxDets[p.maxDets.length - 1],
    });
  }

  /** pycocotools' evalImgs: one entry per category × area range × image (null where the pair is empty). */
  get evalImgs(): (EvalImg | null)[] {
    if (!this.entries) {
      const p = this.paramsEval;
      if (!p || !this.flat) return [];
      const f = this.flat;
      const A = p.areaRng.length;
      const I = p.imgIds.length;
      const entries: (EvalImg | null)[] = new Array(f.C * A * I).fill(null);
      for (let c = 0; c < f.nCells; c++) for (let a = 0; a < A; a++) entries[(f.cellCat[c] * A + a) * I + f.cellImg[c]] = this.entryOf(c, a);
      this.entries = entries;
    }
    return this.entries;
  }

  /** One evalImgs entry, [category index][area index][image index], made alone (reading evalImgs makes them all). */
  evalImgAt(k: number, a: number, i: number): EvalImg | null {
    const p = this.paramsEval;
    if (!p) throw new CocoError('run evaluate() first');
    const A = p.areaRng.length;
    const I = p.imgIds.length;
    if (this.entries) return this.entries[(k * A + a) * I + i] ?? null;
    if (!this.flat) return null;
    const c = cellOf(this.flat, i, k);
    return c < 0 ? null : this.entryOf(c, a);
  }

  /** Sets the entries by hand (accumulate() then reads these). */
  set evalImgs(entries: (EvalImg | null)[]) {
    this.entries = entries;
  }

  /** pycocotools' evaluateImg: greedy matching, crowd and area-range ignore flags. */
  evaluateImg(imgId: number, catId: number, aRng: [number, number], maxDet: number): EvalImg | null {
    const f = this.flat;
    const p = this.paramsEval;
    if (!f || !p) return null;
    const ii = p.imgIds.indexOf(imgId);
    const ci = p.useCats ? p.catIds.indexOf(catId) : catId === -1 ? 0 : -1;
    const c = ii < 0 || ci < 0 ? -1 : cellOf(f, ii, ci);
    if (c < 0) return null;
    const full = this.cellObject(c);
    const cut = full.dts.length > maxDet;
    const G = full.gts.length;
    const cell = cut
      ? {
          ...full,
          ids: undefined,
          dts: full.dts.slice(0, maxDet),
          ious: full.ious && full.ious.subarray(0, maxDet * G),
        }
      : full;
    const T = this.params.iouThrs.length;
    const st = oneEntryStore(T, cell.dts.length, G, this.f64, this.u8, this.books);
    const order = matchInto(st, { slot: 0, d: 0, g: 0 }, cell, aRng, this.params.iouThrs, 0);
    return slotEvalImg(st, 0, cell, order ?? undefined, { image_id: imgId, category_id: catId, aRng, maxDet });
  }

  /** The parameters of the last evaluate() (null before), as accumulate() reads them. */
  get evaluatedParams(): Params | null {
    return this.paramsEval;
  }

  /** Sets evaluate()'s outcome from elsewhere (merged shards, see `shards.ts`): evalImgs in [cat][area][image] order. */
  loadEvaluation(evalImgs: (EvalImg | null)[], params: Params): void {
    this.entries = evalImgs;
    this.flat = null;
    this.paramsEval = params.clone();
    this.eval = null;
  }

  private accumulatedElsewhere = false;

  /** Sets accumulate()'s outcome computed elsewhere (categories accumulated in other threads); accumulate() then returns it. */
  loadAccumulated(result: EvalResult): void {
    this.eval = result;
    this.accumulatedElsewhere = true;
  }

  /** Precision/recall curves: precision[T,R,K,A,M], recall[T,K,A,M], scores[T,R,K,A,M]. */
  accumulate(p: Params = this.params): EvalResult {
    if (this.accumulatedElsewhere && this.eval) return this.eval;
    if (!this.paramsEval) throw new CocoError('run evaluate() before accumulate()');
    // evaluate()'s codes, or the entries that were read (and may have been changed) or set.
    const src = this.entries ? entriesSource(this.entries, this.paramsEval) : flatSource(this.flat!, this.codes!, this.npig!, this.paramsEval);
    this.eval = accumulateFrom(src, p, this.paramsEval);
    return this.eval;
  }

  private requireEval(): EvalResult {
    if (!this.eval) throw new CocoError('run evaluate() and accumulate() first');
    return this.eval;
  }

  /** Mean AP (ap=true) or AR over valid entries for an IoU threshold (or all), area label and maxDets. */
  summarizeOne(ap: boolean, iouThr: number | null, areaRng: string, maxDets: number): number {
    return summarizeOne(this.requireEval(), this.params, [ap, iouThr, areaRng, maxDets]);
  }

  /** The 12 summary lines (10 for keypoints), formatted exactly as pycocotools prints them. */
  summaryLines(): string[] {
    const { stats, lines } = summaryLines(this.requireEval(), this.params);
    this.stats = stats;
    return lines;
  }

  /**
   * Computes and prints the 12 standard numbers (AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l); for keypoints the
   * 10 of pycocotools' _summarizeKps (AP, AP50, AP75, APm, APl, AR, AR50, AR75, ARm, ARl at maxDets 20).
   */
  summarize(log: (line: string) => void = console.log): number[] {
    this.summaryLines().forEach((l) => log(l));
    return this.stats;
  }

  /** AP@[.5:.95], AP50, AP75 and AR per category at area 'all' and the last maxDets (−1 = no gt). */
  perCategory(): CategoryAP[] {
    return perCategoryAP(this.requireEval(), this.params);
  }

  /** AP@[.5:.95] per category, area range and maxDets: [K][A][M] (−1 = no gt). */
  apByCategoryAreaMaxDets(): number[][][] {
    return apGrid(this.requireEval());
  }
}
