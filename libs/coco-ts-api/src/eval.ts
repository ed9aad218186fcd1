/**
 * COCOeval for `bbox`, `segm` and `keypoints`, a port of pycocotools' cocoeval.py that reproduces its numbers
 * exactly: the same stable sorts, greedy matching, crowd handling, area rules and float64 arithmetic (OKS
 * included, up to `Math.exp` against numpy's exp: at most one unit in the last place).
 */
import { type CocoAnnotation, CocoError, type COCO } from './coco';
import { fromRLE } from './mask';
import { bboxIouInto, oksInto, runsIouFlat } from './iou';
import type { RLE } from './mask-api';
import { accumulateEvalImgs } from './accumulate';
import { apGrid, perCategoryAP } from './per-category';
import { summarizeOne, summaryLines } from './summary';
import { Arena } from './arrays';
import { allocStore, type EvalStore, matchInto, slotEvalImg, storeFromEvalImgs } from './eval-store';
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
  eval: EvalResult | null = null;
  stats: number[] = [];
  private paramsEval: Params | null = null;
  /** Cells by imgIndex·C + catIndex over params.imgIds × (catIds, or [−1] without categories). */
  private cells: (Cell | undefined)[] = [];
  private cellIndex = new Map<number, number>();
  private catIndex = new Map<number, number>();
  /** evaluate()'s entries in flat arrays (see eval-store.ts); `evalImgs` makes objects of them on first read. */
  private store: EvalStore | null = null;
  /** Gt order of the slots whose ignored gts moved behind regular ones. */
  private reordered = new Map<number, Int32Array>();
  private cellOfSlot: Int32Array = new Int32Array(0);
  /** Per category index: the image indices with a cell, ascending. */
  private imagesOfCat: number[][] = [];
  /** The area ranges evaluate() used (the same arrays, as pycocotools' entries hold them). */
  private evalAreaRng: [number, number][] = [];
  private entries: (EvalImg | null)[] | null = [];
  /** The cells' IoU matrices, as views of a few large buffers (one ArrayBuffer per cell costs more in GC). */
  private iouArena = new Arena((n) => new Float64Array(n));

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
    // keypoints: a person without labelled keypoints is ignored, whatever its points say.
    if (this.params.iouType === 'keypoints') rec.ignore = requireNumber(ann, 'num_keypoints', 'ground-truth') === 0 || rec.ignore;
    this.attachGeometry(rec, ann, this.cocoGt, 'ground-truth');
    return rec;
  }

  private dtRecord(ann: CocoAnnotation): DtRec {
    const rec: DtRec = { id: ann.id, area: requireNumber(ann, 'area', 'detection'), score: requireNumber(ann, 'score', 'detection') };
    this.attachGeometry(rec, ann, this.cocoDt, 'detection');
    return rec;
  }

  private attachGeometry(rec: GtRec | DtRec, ann: CocoAnnotation, coco: COCO, kind: string): void {
    if (this.params.iouType === 'keypoints') {
      const k = this.params.kpt_oks_sigmas.length;
      const kps = ann.keypoints;
      if (!Array.isArray(kps) || kps.length !== 3 * k || kps.some((v) => typeof v !== 'number')) {
        throw new CocoError(
          `${kind} annotation ${ann.id}: 'keypoints' must be ${3 * k} numbers ([x, y, v] for each of the ${k} keypoints that params.kpt_oks_sigmas has; got ${Array.isArray(kps) ? kps.length : 'none'}); set kpt_oks_sigmas for other skeletons`,
        );
      }
      rec.kps = kps as number[];
      if (kind === 'ground-truth') {
        const bb = ann.bbox;
        if (!Array.isArray(bb) || bb.length !== 4 || bb.some((v) => typeof v !== 'number'))
          throw new CocoError(`${kind} annotation ${ann.id}: missing 'bbox' [x, y, w, h] (the OKS of a person without visible keypoints uses it)`);
        rec.bbox = bb;
      }
    } else if (this.params.iouType === 'bbox') {
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
    this.iouArena = new Arena((n) => new Float64Array(n));
    const p = this.params;
    const catIds = p.useCats ? p.catIds : [-1];
    const C = catIds.length;
    this.cells = new Array(p.imgIds.length * C);
    this.cellIndex = new Map(p.imgIds.map((id, i) => [id, i]));
    this.catIndex = new Map(catIds.map((id, i) => [id, i]));
    this.imagesOfCat = Array.from({ length: C }, () => []);
    if (!p.useCats) return this.prepareWithoutCats();
    // pycocotools' loadAnns(getAnnIds(imgIds, catIds)) without the id round trip: each image's annotations in
    // dataset order, those of the evaluated categories, gathered straight into their (image, category) cell.
    const lists = new Map<number, { g: GtRec[]; d: DtRec[] }>();
    const listOf = (ii: number, ci: number) => {
      const c = ii * C + ci;
      let l = lists.get(c);
      if (!l) {
        lists.set(c, (l = { g: [], d: [] }));
        this.imagesOfCat[ci].push(ii);
      }
      return l;
    };
    for (let ii = 0; ii < p.imgIds.length; ii++) {
      const id = p.imgIds[ii];
      for (const a of this.cocoGt.imgToAnns.get(id) ?? []) {
        const ci = this.catIndex.get(a.category_id);
        if (ci !== undefined) listOf(ii, ci).g.push(this.gtRecord(a));
      }
      for (const a of this.cocoDt.imgToAnns.get(id) ?? []) {
        const ci = this.catIndex.get(a.category_id);
        if (ci !== undefined) listOf(ii, ci).d.push(this.dtRecord(a));
      }
    }
    for (const l of this.imagesOfCat) l.sort((a, b) => a - b);
    for (const [c, { g, d }] of lists) this.cells[c] = this.makeCell(g, d);
  }

  /** useCats = 0: one cell per image, its gts and detections of every evaluated category in catIds order. */
  private prepareWithoutCats(): void {
    const p = this.params;
    const gtAnns = this.cocoGt.loadAnns(this.cocoGt.getAnnIds({ imgIds: p.imgIds }));
    const dtAnns = this.cocoDt.loadAnns(this.cocoDt.getAnnIds({ imgIds: p.imgIds }));
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
    const none: never[] = [];
    for (const [ii, imgId] of p.imgIds.entries()) {
      const gByCat = gts.get(imgId);
      const dByCat = dts.get(imgId);
      if (!gByCat && !dByCat) continue;
      const g = p.catIds.flatMap((c) => gByCat?.get(c) ?? none);
      const d = p.catIds.flatMap((c) => dByCat?.get(c) ?? none);
      if (g.length === 0 && d.length === 0) continue;
      this.cells[ii] = this.makeCell(g, d);
      this.imagesOfCat[0].push(ii);
    }
  }

  /** A cell: detections ranked by score (a stable sort, as pycocotools' mergesort) and cut at the last maxDets, and IoUs. */
  private makeCell(g: GtRec[], d: DtRec[]): Cell {
    const maxDet = this.params.maxDets[this.params.maxDets.length - 1];
    if (d.length > 1) d.sort((a, b) => b.score - a.score);
    if (d.length > maxDet) d = d.slice(0, maxDet);
    return { gts: g, dts: d, ious: this.computeIoU(g, d) };
  }

  private computeIoU(gt: GtRec[], dt: DtRec[]): Float64Array | null {
    if (gt.length === 0 || dt.length === 0) return null;
    const out = this.iouArena.take(dt.length * gt.length);
    if (this.params.iouType === 'keypoints')
      return oksInto(
        dt.map((d) => d.kps!),
        gt.map((g) => g.kps!),
        gt.map((g) => g.bbox!),
        gt.map((g) => g.area),
        this.params.kpt_oks_sigmas,
        out,
      );
    if (this.params.iouType === 'bbox')
      return bboxIouInto(
        dt.length,
        gt.length,
        (d) => dt[d].bbox!,
        (g) => gt[g].bbox!,
        (g) => gt[g].iscrowd,
        out,
      );
    return runsIouFlat(
      dt.map((d) => d.runs!),
      gt.map((g) => g.runs!),
      gt.map((g) => g.iscrowd),
      out,
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
    const A = p.areaRng.length;
    const I = p.imgIds.length;
    const T = p.iouThrs.length;
    // Sizes first, so every entry's arrays are blocks of a few large buffers.
    let cells = 0;
    let sumD = 0;
    let sumG = 0;
    for (const cell of this.cells) {
      if (!cell) continue;
      cells++;
      sumD += cell.dts.length;
      sumG += cell.gts.length;
    }
    const st = allocStore(C * A * I, cells * A, T, sumD * A, sumG * A, sumD);
    const scoreOff = new Int32Array(this.cells.length);
    let o = 0;
    this.cells.forEach((cell, c) => {
      if (!cell) return;
      scoreOff[c] = o;
      for (const d of cell.dts) st.scores[o++] = d.score;
    });
    this.reordered = new Map();
    this.cellOfSlot = new Int32Array(cells * A);
    const cur = { slot: 0, d: 0, g: 0 };
    for (let ci = 0; ci < C; ci++) {
      for (let a = 0; a < A; a++) {
        const aRng = p.areaRng[a];
        for (const ii of this.imagesOfCat[ci]) {
          const c = ii * C + ci;
          const cell = this.cells[c]!;
          const s = cur.slot;
          st.slotOfEntry[(ci * A + a) * I + ii] = s;
          this.cellOfSlot[s] = c;
          const order = matchInto(st, cur, cell, aRng, p.iouThrs, scoreOff[c]);
          if (order) this.reordered.set(s, order);
        }
      }
    }
    this.store = st;
    this.entries = null;
    this.evalAreaRng = p.areaRng;
    this.paramsEval = p.clone();
  }

  /** pycocotools' evalImgs: one entry per category × area range × image (null where the pair is empty). */
  get evalImgs(): (EvalImg | null)[] {
    if (!this.entries) {
      const st = this.store!;
      const p = this.paramsEval!;
      const A = p.areaRng.length;
      const I = p.imgIds.length;
      const maxDet = p.maxDets[p.maxDets.length - 1];
      this.entries = Array.from(st.slotOfEntry, (s, n) => {
        if (s < 0) return null;
        const ci = Math.floor(n / (A * I));
        return slotEvalImg(st, s, this.cells[this.cellOfSlot[s]]!, this.reordered.get(s), {
          image_id: p.imgIds[n % I],
          category_id: p.useCats ? p.catIds[ci] : -1,
          aRng: this.evalAreaRng[Math.floor(n / I) % A],
          maxDet,
        });
      });
    }
    return this.entries;
  }

  /** One evalImgs entry, [category index][area index][image index], made alone (reading evalImgs makes them all). */
  evalImgAt(k: number, a: number, i: number): EvalImg | null {
    const p = this.paramsEval;
    if (!p) throw new CocoError('run evaluate() first');
    const A = p.areaRng.length;
    const I = p.imgIds.length;
    const n = (k * A + a) * I + i;
    if (this.entries) return this.entries[n] ?? null;
    const st = this.store!;
    const s = st.slotOfEntry[n];
    if (s < 0) return null;
    return slotEvalImg(st, s, this.cells[this.cellOfSlot[s]]!, this.reordered.get(s), {
      image_id: p.imgIds[i],
      category_id: p.useCats ? p.catIds[k] : -1,
      aRng: this.evalAreaRng[a],
      maxDet: p.maxDets[p.maxDets.length - 1],
    });
  }

  /** Sets the entries by hand (accumulate() then reads these). */
  set evalImgs(entries: (EvalImg | null)[]) {
    this.entries = entries;
    this.store = null;
  }

  /** pycocotools' evaluateImg: greedy matching, crowd and area-range ignore flags. */
  evaluateImg(imgId: number, catId: number, aRng: [number, number], maxDet: number): EvalImg | null {
    const ii = this.cellIndex.get(imgId);
    const ci = this.catIndex.get(catId);
    const full = ii === undefined || ci === undefined ? undefined : this.cells[ii * this.catIndex.size + ci];
    if (!full) return null;
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
    const st = allocStore(1, 1, T, cell.dts.length, G, cell.dts.length);
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
    this.store = null;
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
    // The flat entries of evaluate(), or a store made of entries that were read (and may have been changed) or set.
    const st = this.entries ? storeFromEvalImgs(this.entries, this.paramsEval.iouThrs.length) : this.store!;
    this.eval = accumulateEvalImgs(st, p, this.paramsEval);
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
