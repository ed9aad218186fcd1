/**
 * COCOeval for `bbox` and `segm`, a port of pycocotools' cocoeval.py that reproduces its numbers exactly:
 * the same stable sorts, greedy matching, crowd handling, area rules and float64 arithmetic.
 */
import { type CocoAnnotation, CocoError, type COCO } from './coco';
import { bboxIou, fromRLE, runsIou } from './mask';
import type { RLE } from './mask-api';
import { meanOfValid, pyFixed } from './numeric';
import { accumulateEvalImgs } from './accumulate';
import { apGrid, perCategoryAP } from './per-category';
import { Arena, argsortStable } from './arrays';
import { IOU_TYPES, type IouType, Params } from './params';
import type { CategoryAP, Cell, DtRec, EvalImg, EvalResult, GtRec } from './eval-types';

export type { CategoryAP, EvalImg, EvalResult } from './eval-types';
export { evalRow } from './eval-types';

function requireNumber(ann: CocoAnnotation, field: string, kind: string): number {
  const v = ann[field];
  if (typeof v !== 'number' && typeof v !== 'boolean') throw new CocoError(`${kind} annotation ${ann.id}: missing or non-numeric '${field}'`);
  return Number(v);
}

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
  evalImgs: (EvalImg | null)[] = [];
  eval: EvalResult | null = null;
  stats: number[] = [];
  private paramsEval: Params | null = null;
  /** Cells by imgIndex·C + catIndex over params.imgIds × (catIds, or [−1] without categories). */
  private cells: (Cell | undefined)[] = [];
  private cellIndex = new Map<number, number>();
  private catIndex = new Map<number, number>();
  private floats = new Arena((n) => new Float64Array(n));
  private bytes = new Arena((n) => new Uint8Array(n));

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

  private gtRecord(ann: CocoAnnotation): GtRec {
    const iscrowd = requireNumber(ann, 'iscrowd', 'ground-truth');
    const area = requireNumber(ann, 'area', 'ground-truth');
    requireNumber(ann, 'category_id', 'ground-truth');
    // pycocotools overwrites any 'ignore' key with the truthiness of iscrowd, but the IoU and the matching
    // take int(iscrowd): 0.5 is ignored yet no crowd, 2 and true are crowds.
    const rec: GtRec = { id: ann.id, area, iscrowd: Math.trunc(iscrowd), ignore: !!iscrowd };
    this.attachGeometry(rec, ann, this.cocoGt, 'ground-truth');
    return rec;
  }

  private dtRecord(ann: CocoAnnotation): DtRec {
    const rec: DtRec = { id: ann.id, area: requireNumber(ann, 'area', 'detection'), score: requireNumber(ann, 'score', 'detection') };
    this.attachGeometry(rec, ann, this.cocoDt, 'detection');
    return rec;
  }

  private attachGeometry(rec: GtRec | DtRec, ann: CocoAnnotation, coco: COCO, kind: string): void {
    if (this.params.iouType === 'bbox') {
      const bb = ann.bbox;
      if (!Array.isArray(bb) || bb.length !== 4 || bb.some((v) => typeof v !== 'number')) {
        throw new CocoError(`${kind} annotation ${ann.id}: missing 'bbox' [x, y, w, h]`);
      }
      rec.bbox = bb;
    } else {
      try {
        rec.runs = fromRLE(coco.annToRLE(ann) as RLE);
      } catch (e) {
        throw e instanceof CocoError ? e : new CocoError(`${kind} annotation ${ann.id}: ${(e as Error).message}`);
      }
    }
  }

  private prepare(): void {
    const p = this.params;
    const query = p.useCats ? { imgIds: p.imgIds, catIds: p.catIds } : { imgIds: p.imgIds };
    const gtAnns = this.cocoGt.loadAnns(this.cocoGt.getAnnIds(query));
    const dtAnns = this.cocoDt.loadAnns(this.cocoDt.getAnnIds(query));
    // image id → category id → records, in annotation order
    const gts = new Map<number, Map<number, GtRec[]>>();
    const dts = new Map<number, Map<number, DtRec[]>>();
    const push = <T>(m: Map<number, Map<number, T[]>>, img: number, cat: number, v: T) => {
      let byCat = m.get(img);
      if (!byCat) m.set(img, (byCat = new Map()));
      let list = byCat.get(cat);
      if (!list) byCat.set(cat, (list = []));
      list.push(v);
    };
    for (const g of gtAnns) push(gts, g.image_id, g.category_id, this.gtRecord(g));
    for (const d of dtAnns) push(dts, d.image_id, d.category_id, this.dtRecord(d));
    const maxDet = p.maxDets[p.maxDets.length - 1];
    const catIds = p.useCats ? p.catIds : [-1];
    this.cells = new Array(p.imgIds.length * catIds.length);
    this.cellIndex = new Map(p.imgIds.map((id, i) => [id, i]));
    this.catIndex = new Map(catIds.map((id, i) => [id, i]));
    const none: never[] = [];
    for (const [ii, imgId] of p.imgIds.entries()) {
      const gByCat = gts.get(imgId);
      const dByCat = dts.get(imgId);
      if (!gByCat && !dByCat) continue;
      for (const [ci, catId] of catIds.entries()) {
        const g = p.useCats ? (gByCat?.get(catId) ?? none) : p.catIds.flatMap((c) => gByCat?.get(c) ?? none);
        let d = p.useCats ? (dByCat?.get(catId) ?? none) : p.catIds.flatMap((c) => dByCat?.get(c) ?? none);
        if (g.length === 0 && d.length === 0) continue;
        if (d.length > 1) d = argsortStable(d.length, (i) => -d[i].score).map((i) => d[i]);
        if (d.length > maxDet) d = d.slice(0, maxDet);
        this.cells[ii * catIds.length + ci] = {
          gts: g,
          dts: d,
          ious: this.computeIoU(g, d),
          dtIds: d.map((x) => x.id),
          dtScores: d.map((x) => x.score),
          crowd: Uint8Array.from(g, (x) => (x.iscrowd ? 1 : 0)),
          gtIds: g.map((x) => x.id),
        };
      }
    }
  }

  private computeIoU(gt: GtRec[], dt: DtRec[]): Float64Array[] | null {
    if (gt.length === 0 || dt.length === 0) return null;
    const iscrowd = gt.map((g) => g.iscrowd);
    if (this.params.iouType === 'bbox')
      return bboxIou(
        dt.map((d) => d.bbox!),
        gt.map((g) => g.bbox!),
        iscrowd,
      );
    return runsIou(
      dt.map((d) => d.runs!),
      gt.map((g) => g.runs!),
      iscrowd,
    );
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
    this.prepare();
    const C = p.useCats ? p.catIds.length : 1;
    const maxDet = p.maxDets[p.maxDets.length - 1];
    this.evalImgs = new Array(C * p.areaRng.length * p.imgIds.length);
    this.floats = new Arena((n) => new Float64Array(n));
    this.bytes = new Arena((n) => new Uint8Array(n));
    let n = 0;
    for (let ci = 0; ci < C; ci++) {
      for (const aRng of p.areaRng) {
        for (let ii = 0; ii < p.imgIds.length; ii++) {
          const cell = this.cells[ii * C + ci];
          this.evalImgs[n++] = cell ? this.evaluateCell(cell, p.imgIds[ii], p.useCats ? p.catIds[ci] : -1, aRng, maxDet) : null;
        }
      }
    }
    this.paramsEval = p.clone();
  }

  /** pycocotools' evaluateImg: greedy matching, crowd and area-range ignore flags. */
  evaluateImg(imgId: number, catId: number, aRng: [number, number], maxDet: number): EvalImg | null {
    const ii = this.cellIndex.get(imgId);
    const ci = this.catIndex.get(catId);
    const cell = ii === undefined || ci === undefined ? undefined : this.cells[ii * this.catIndex.size + ci];
    return cell ? this.evaluateCell(cell, imgId, catId, aRng, maxDet) : null;
  }

  private evaluateCell(cell: Cell, imgId: number, catId: number, aRng: [number, number], maxDet: number): EvalImg {
    // Ignore flags straight into the entry's array; reordered only when an ignored gt precedes a regular one.
    const G0 = cell.gts.length;
    let gtIg = this.bytes.take(G0);
    let sorted = true; // already "non-ignored first"? (the common case: no sort, no copies)
    for (let i = 0; i < G0; i++) {
      const g = cell.gts[i];
      gtIg[i] = g.ignore || g.area < aRng[0] || g.area > aRng[1] ? 1 : 0;
      if (i > 0 && gtIg[i] < gtIg[i - 1]) sorted = false;
    }
    let gtind: number[] | null = null;
    let gt = cell.gts;
    if (!sorted) {
      const ignoreOf = Uint8Array.from(gtIg);
      gtind = argsortStable(G0, (i) => ignoreOf[i]); // non-ignored first
      gt = gtind.map((i) => cell.gts[i]);
      gtIg = Uint8Array.from(gtind, (i) => ignoreOf[i]);
    }
    const dt = cell.dts.length > maxDet ? cell.dts.slice(0, maxDet) : cell.dts;
    const T = this.params.iouThrs.length;
    const G = gt.length;
    const D = dt.length;
    const gtm = this.floats.take(T * G);
    const dtm = this.floats.take(T * D);
    const dtIg = this.bytes.take(T * D);
    if (cell.ious) {
      const ious = cell.ious;
      const crowd = gtind ? Uint8Array.from(gtind, (i) => cell.crowd[i]) : cell.crowd;
      for (let tind = 0; tind < T; tind++) {
        const t = this.params.iouThrs[tind];
        for (let dind = 0; dind < D; dind++) {
          let best = Math.min(t, 1 - 1e-10);
          let m = -1;
          const row = ious[dind];
          for (let gind = 0; gind < G; gind++) {
            if (gtm[tind * G + gind] > 0 && !crowd[gind]) continue; // matched regular gt
            if (m > -1 && gtIg[m] === 0 && gtIg[gind] === 1) break; // have a regular match; the rest are ignored gts
            const v = row[gtind ? gtind[gind] : gind];
            if (v < best) continue;
            best = v;
            m = gind;
          }
          if (m === -1) continue;
          dtIg[tind * D + dind] = gtIg[m];
          dtm[tind * D + dind] = gt[m].id;
          gtm[tind * G + m] = dt[dind].id;
        }
      }
    }
    // Unmatched detections outside the area range are ignored.
    for (let dind = 0; dind < D; dind++) {
      const outside = dt[dind].area < aRng[0] || dt[dind].area > aRng[1];
      if (!outside) continue;
      for (let t = 0; t < T; t++) if (dtm[t * D + dind] === 0) dtIg[t * D + dind] = 1;
    }
    return {
      image_id: imgId,
      category_id: catId,
      aRng,
      maxDet,
      dtIds: dt === cell.dts ? cell.dtIds : dt.map((d) => d.id),
      gtIds: gtind ? gt.map((g) => g.id) : cell.gtIds,
      dtMatches: dtm,
      gtMatches: gtm,
      dtScores: dt === cell.dts ? cell.dtScores : dt.map((d) => d.score),
      gtIgnore: gtIg,
      dtIgnore: dtIg,
    };
  }

  /** The parameters of the last evaluate() (null before), as accumulate() reads them. */
  get evaluatedParams(): Params | null {
    return this.paramsEval;
  }

  /** Sets evaluate()'s outcome from elsewhere (merged shards, see `shards.ts`): evalImgs in [cat][area][image] order. */
  loadEvaluation(evalImgs: (EvalImg | null)[], params: Params): void {
    this.evalImgs = evalImgs;
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
    this.eval = accumulateEvalImgs(this.evalImgs, p, this.paramsEval);
    return this.eval;
  }

  private requireEval(): EvalResult {
    if (!this.eval) throw new CocoError('run evaluate() and accumulate() first');
    return this.eval;
  }

  /** Mean AP (ap=true) or AR over valid entries for an IoU threshold (or all), area label and maxDets. */
  summarizeOne(ap: boolean, iouThr: number | null, areaRng: string, maxDets: number): number {
    const { precision, recall, counts } = this.requireEval();
    const p = this.params;
    const [T, R, K, A, M] = counts;
    const tSel = iouThr === null ? [...Array(T).keys()] : p.iouThrs.flatMap((v, i) => (v === iouThr ? [i] : []));
    const aSel = p.areaRngLbl.flatMap((l, i) => (l === areaRng ? [i] : []));
    const mSel = p.maxDets.flatMap((d, i) => (d === maxDets ? [i] : []));
    const vals: number[] = [];
    if (aSel.length && mSel.length) {
      const a = aSel[0];
      const m = mSel[0];
      for (const t of tSel) {
        if (ap) for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) vals.push(precision[(((t * R + r) * K + k) * A + a) * M + m]);
        else for (let k = 0; k < K; k++) vals.push(recall[((t * K + k) * A + a) * M + m]);
      }
    }
    return meanOfValid(vals);
  }

  /** The 12 summary lines, formatted exactly as pycocotools prints them. */
  summaryLines(): string[] {
    const p = this.params;
    if (p.maxDets.length < 3) throw new CocoError(`summarize() needs 3 maxDets (got [${p.maxDets}]), as in pycocotools`);
    const md = p.maxDets;
    const rows: [boolean, number | null, string, number][] = [
      [true, null, 'all', 100],
      [true, 0.5, 'all', md[2]],
      [true, 0.75, 'all', md[2]],
      [true, null, 'small', md[2]],
      [true, null, 'medium', md[2]],
      [true, null, 'large', md[2]],
      [false, null, 'all', md[0]],
      [false, null, 'all', md[1]],
      [false, null, 'all', md[2]],
      [false, null, 'small', md[2]],
      [false, null, 'medium', md[2]],
      [false, null, 'large', md[2]],
    ];
    this.stats = rows.map(([ap, thr, area, m]) => this.summarizeOne(ap, thr, area, m));
    return rows.map(([ap, thr, area, m], i) => {
      const title = (ap ? 'Average Precision' : 'Average Recall').padEnd(18);
      const iouStr = (thr === null ? `${pyFixed(p.iouThrs[0], 2)}:${pyFixed(p.iouThrs[p.iouThrs.length - 1], 2)}` : pyFixed(thr, 2)).padEnd(9);
      return ` ${title} ${ap ? '(AP)' : '(AR)'} @[ IoU=${iouStr} | area=${area.padStart(6)} | maxDets=${String(m).padStart(3)} ] = ${pyFixed(this.stats[i], 3)}`;
    });
  }

  /** Computes and prints the 12 standard numbers (AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l). */
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
