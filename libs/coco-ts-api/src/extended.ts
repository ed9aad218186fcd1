/**
 * Analysis beyond the 12 numbers, from an evaluated and accumulated COCOeval (browser-safe):
 * - precision / recall / F1 per class and overall at the confidence that maximises macro-F1 (and that confidence),
 *   with the F1–, precision– and recall–confidence curves and the PR curves as data;
 * - AP per class × area range;
 * - an error breakdown of the kind TIDE gives (bbox and segm): every false positive is a classification,
 *   localisation, both, duplicate or background error, every unmatched object without such a detection is
 *   missed, and each kind is reported as its count and as the AP@iouThr gained when only it is fixed by an oracle.
 */
import { CocoError } from './coco';
import type { COCOeval } from './eval';
import { bboxIouFlat } from './iou';
import { iou as maskIou, type RLE } from './mask-api';
import { linspace } from './numeric';

export interface ExtendedOptions {
  /** The IoU (OKS) threshold of the confidence analysis and the error breakdown (default 0.5, one of params.iouThrs). */
  iouThr?: number;
  /** Confidences the curves are sampled at: n points from 0 to 1 (default 101). */
  points?: number;
  /** The error breakdown's background threshold: a false positive overlapping every object less than this is background (default 0.1). */
  backgroundIou?: number;
  /** Category names by id (default: the ground truth's categories; a COCOeval merged from shards has none). */
  names?: ReadonlyMap<number, string>;
}

export interface ClassScores {
  categoryId: number;
  name: string;
  /** Objects that count (not crowd, not ignored) at area 'all'. */
  objects: number;
  tp: number;
  fp: number;
  precision: number;
  recall: number;
  f1: number;
}

export type ErrorKind = 'classification' | 'localisation' | 'both' | 'duplicate' | 'background' | 'missed';
export const ERROR_KINDS: ErrorKind[] = ['classification', 'localisation', 'both', 'duplicate', 'background', 'missed'];

export interface ExtendedMetrics {
  iouThr: number;
  /** The confidence (from the sampled ones) with the highest macro-F1, and the scores there. */
  bestConfidence: number;
  perClass: ClassScores[];
  /** Means over the classes with objects (macro), and counts pooled over every class (micro). */
  macro: { precision: number; recall: number; f1: number };
  micro: { precision: number; recall: number; f1: number };
  curves: {
    confidence: number[];
    /** [class][confidence] */
    precision: number[][];
    recall: number[][];
    f1: number[][];
    macroF1: number[];
    /** Precision at params.recThrs per class (area 'all', last maxDets); −1 where a class has no objects. */
    pr: { recall: number[]; precision: number[][] };
  };
  /** AP@[.50:.95] per class × area range (last maxDets; −1 = no objects). */
  apByClassArea: { areas: string[]; ap: number[][] };
  /**
   * Counts and AP gains of each error kind; null for keypoints (no overlap between classes to read), without
   * categories, and for a COCOeval merged from shards (it has no annotations' geometry).
   */
  errors: { baseAP: number; counts: Record<ErrorKind, number>; apGain: Record<ErrorKind, number> } | null;
}

const EPS = 2.220446049250313e-16;

/** One ranked detection of the analysis: where it came from and what it is at iouThr. */
interface Det {
  cat: number;
  image: number;
  /** Position in the concatenation pycocotools' accumulate() sorts (image order, then rank). */
  order: number;
  id: number;
  score: number;
  /** The gt it matched at iouThr (0: none). */
  gt: number;
}

/** AP at one IoU threshold of one class as pycocotools' accumulate() computes it: 101-point interpolated. */
export function apOfRanked(dets: { score: number; order: number; tp: boolean }[], objects: number, recThrs: number[]): number {
  if (objects === 0) return -1;
  const sorted = [...dets].sort((a, b) => b.score - a.score || a.order - b.order);
  const n = sorted.length;
  const pr = new Float64Array(n);
  const rc = new Float64Array(n);
  let tp = 0;
  let fp = 0;
  sorted.forEach((d, i) => {
    if (d.tp) tp++;
    else fp++;
    rc[i] = tp / objects;
    pr[i] = tp / (fp + tp + EPS);
  });
  for (let i = n - 1; i > 0; i--) if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
  let sum = 0;
  let r = 0;
  for (const t of recThrs) {
    while (r < n && rc[r] < t) r++;
    sum += r < n ? pr[r] : 0;
  }
  return sum / recThrs.length;
}

/** The analysis of an evaluated and accumulated COCOeval (see the module comment). */
export function extendedMetrics(E: COCOeval, options: ExtendedOptions = {}): ExtendedMetrics {
  const p = E.evaluatedParams;
  if (!p || !E.eval) throw new CocoError('run evaluate() and accumulate() before extendedMetrics()');
  const iouThr = options.iouThr ?? 0.5;
  const t = p.iouThrs.findIndex((v) => Math.abs(v - iouThr) < 1e-12);
  if (t < 0) throw new CocoError(`iouThr ${iouThr} is not one of params.iouThrs (${p.iouThrs.map((v) => +v.toFixed(2)).join(', ')})`);
  const a = p.areaRngLbl.indexOf('all');
  if (a < 0) throw new CocoError("extendedMetrics() needs the area range 'all' in params.areaRngLbl");
  const cats = p.useCats ? p.catIds : [-1];
  const K = cats.length;
  const A = p.areaRng.length;
  const I = p.imgIds.length;
  const maxDet = p.maxDets[p.maxDets.length - 1];
  const names = cats.map((c) => (c === -1 ? 'all' : (options.names?.get(c) ?? E.cocoGt.cats.get(c)?.name ?? String(c))));

  // Ranked detections and counted objects per class, at area 'all' and iouThr (ignored detections left out).
  const dets: Det[][] = cats.map(() => []);
  const objects = new Array<number>(K).fill(0);
  const matchedGts = new Set<number>();
  const ignoredGts = new Set<number>();
  let order = 0;
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < I; i++) {
      const e = E.evalImgAt(k, a, i);
      if (!e) continue;
      const D = e.dtIds.length;
      const G = e.gtIds.length;
      for (let g = 0; g < G; g++) {
        if (e.gtIgnore[g]) ignoredGts.add(e.gtIds[g]);
        else objects[k]++;
      }
      for (let d = 0; d < Math.min(D, maxDet); d++) {
        if (e.dtIgnore[t * D + d]) continue;
        const gt = e.dtMatches[t * D + d];
        if (gt) matchedGts.add(gt);
        dets[k].push({ cat: k, image: i, order: order++, id: e.dtIds[d], score: e.dtScores[d], gt });
      }
    }
  }

  // Confidence curves.
  const points = options.points ?? 101;
  const confidence = linspace(0, 1, points);
  const precision: number[][] = [];
  const recall: number[][] = [];
  const f1: number[][] = [];
  for (let k = 0; k < K; k++) {
    const sorted = [...dets[k]].sort((x, y) => y.score - x.score || x.order - y.order);
    const P: number[] = [];
    const R: number[] = [];
    const F: number[] = [];
    // Cumulative true positives down the ranking; the detections at or above c are a prefix of it.
    const cumTp = new Int32Array(sorted.length + 1);
    sorted.forEach((d, i) => (cumTp[i + 1] = cumTp[i] + (d.gt ? 1 : 0)));
    for (const c of confidence) {
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid].score >= c) lo = mid + 1;
        else hi = mid;
      }
      const tp = cumTp[lo];
      const fp = lo - tp;
      const pr = tp + fp ? tp / (tp + fp) : 0;
      const rc = objects[k] ? tp / objects[k] : 0;
      P.push(pr);
      R.push(rc);
      F.push(pr + rc ? (2 * pr * rc) / (pr + rc) : 0);
    }
    precision.push(P);
    recall.push(R);
    f1.push(F);
  }
  const counted = cats.map((_, k) => k).filter((k) => objects[k] > 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 0);
  const macroF1 = confidence.map((_, j) => mean(counted.map((k) => f1[k][j])));
  let best = 0;
  for (let j = 1; j < points; j++) if (macroF1[j] > macroF1[best]) best = j;
  const bestConfidence = confidence[best];
  const perClass: ClassScores[] = cats.map((c, k) => {
    let tp = 0;
    let fp = 0;
    for (const d of dets[k]) if (d.score >= bestConfidence) d.gt ? tp++ : fp++;
    return { categoryId: c, name: names[k], objects: objects[k], tp, fp, precision: precision[k][best], recall: recall[k][best], f1: f1[k][best] };
  });
  const pooled = counted.reduce((s, k) => ({ tp: s.tp + perClass[k].tp, fp: s.fp + perClass[k].fp, n: s.n + objects[k] }), { tp: 0, fp: 0, n: 0 });
  const microP = pooled.tp + pooled.fp ? pooled.tp / (pooled.tp + pooled.fp) : 0;
  const microR = pooled.n ? pooled.tp / pooled.n : 0;

  // PR curves and AP per class × area from accumulate()'s arrays.
  const [, R, , , M] = E.eval.counts;
  const prCurves = cats.map((_, k) => p.recThrs.map((__, r) => E.eval!.precision[(((t * R + r) * K + k) * A + a) * M + (M - 1)]));
  const grid = E.apByCategoryAreaMaxDets();

  return {
    iouThr: p.iouThrs[t],
    bestConfidence,
    perClass,
    macro: { precision: mean(counted.map((k) => perClass[k].precision)), recall: mean(counted.map((k) => perClass[k].recall)), f1: macroF1[best] },
    micro: { precision: microP, recall: microR, f1: microP + microR ? (2 * microP * microR) / (microP + microR) : 0 },
    curves: { confidence, precision, recall, f1, macroF1, pr: { recall: [...p.recThrs], precision: prCurves } },
    apByClassArea: { areas: [...p.areaRngLbl], ap: grid.map((byArea) => byArea.map((byM) => byM[byM.length - 1])) },
    // Without the annotations' geometry (a COCOeval made by mergeShards) the overlaps cannot be read.
    errors:
      p.iouType === 'keypoints' || !p.useCats || E.cocoGt.anns.size === 0
        ? null
        : errorBreakdown(E, dets, objects, matchedGts, ignoredGts, t, options.backgroundIou ?? 0.1),
  };
}

/**
 * TIDE-style errors at iouThr: each unmatched, not ignored detection is, in this order, a duplicate (its own class's
 * object at ≥ iouThr, taken by a higher-scoring detection), a classification error (another class's object at ≥
 * iouThr), a localisation error (its own class's object at ≥ the background threshold), both (another class's object
 * at ≥ the background threshold) or background. Objects neither matched nor the target of a classification or
 * localisation error are missed. A kind's AP gain: mean AP@iouThr over the classes with objects after an oracle fixes
 * only that kind (classification / localisation: the detection takes its object's class / box and becomes a true
 * positive if that object is still free, else it is removed; both, duplicate, background: removed; missed: the
 * objects leave the count), minus the same mean before.
 */
function errorBreakdown(
  E: COCOeval,
  dets: Det[][],
  objects: number[],
  matchedGts: Set<number>,
  ignoredGts: Set<number>,
  t: number,
  tb: number,
): ExtendedMetrics['errors'] {
  const p = E.evaluatedParams!;
  const tf = p.iouThrs[t];
  const K = dets.length;
  const catIndex = new Map(p.catIds.map((c, k) => [c, k]));
  const segm = p.iouType === 'segm';
  // Every object of an image that counts (all classes; crowds and ignored ones left out), with its geometry.
  const gtsOf = new Map<number, { id: number; k: number; geom: number[] | RLE }[]>();
  const geomOf = (ann: { bbox?: unknown }, coco: typeof E.cocoGt) => (segm ? coco.annToRLE(ann as never) : (ann.bbox as number[]));
  for (const imgId of p.imgIds) {
    const list = (E.cocoGt.imgToAnns.get(imgId) ?? [])
      .filter((g) => catIndex.has(g.category_id) && !g.iscrowd && !ignoredGts.has(g.id))
      .map((g) => ({ id: g.id, k: catIndex.get(g.category_id)!, geom: geomOf(g, E.cocoGt) }));
    gtsOf.set(imgId, list);
  }
  type Kind = Exclude<ErrorKind, 'missed'>;
  const kindOf = new Map<Det, { kind: Kind; target: { id: number; k: number } | null }>();
  const targeted = new Set<number>();
  for (const list of dets)
    for (const d of list) {
      if (d.gt) continue;
      const imgId = p.imgIds[d.image];
      const gts = gtsOf.get(imgId) ?? [];
      let bestSame: { id: number; k: number; v: number } | null = null;
      let bestOther: { id: number; k: number; v: number } | null = null;
      if (gts.length) {
        const ann = E.cocoDt.anns.get(d.id)!;
        const dg = geomOf(ann, E.cocoDt);
        const ious = segm
          ? maskIou(
              [dg as RLE],
              gts.map((g) => g.geom as RLE),
              new Array(gts.length).fill(0),
            )[0]
          : Array.from(
              bboxIouFlat(
                [dg as [number, number, number, number]],
                gts.map((g) => g.geom as [number, number, number, number]),
                new Array(gts.length).fill(0),
              ),
            );
        gts.forEach((g, j) => {
          const v = ious[j];
          if (g.k === d.cat) {
            if (!bestSame || v > bestSame.v) bestSame = { id: g.id, k: g.k, v };
          } else if (!bestOther || v > bestOther.v) bestOther = { id: g.id, k: g.k, v };
        });
      }
      const same = bestSame as { id: number; k: number; v: number } | null;
      const other = bestOther as { id: number; k: number; v: number } | null;
      let e: { kind: Kind; target: { id: number; k: number } | null };
      if (same && same.v >= tf) e = { kind: 'duplicate', target: null };
      else if (other && other.v >= tf) e = { kind: 'classification', target: other };
      else if (same && same.v >= tb) e = { kind: 'localisation', target: same };
      else if (other && other.v >= tb) e = { kind: 'both', target: null };
      else e = { kind: 'background', target: null };
      kindOf.set(d, e);
      if (e.target) targeted.add(e.target.id);
    }
  const missedPerClass = new Array<number>(K).fill(0);
  for (const gts of gtsOf.values()) for (const g of gts) if (!matchedGts.has(g.id) && !targeted.has(g.id)) missedPerClass[g.k]++;

  const meanAP = (lists: { score: number; order: number; tp: boolean }[][], counts: number[]) => {
    const aps = lists.map((l, k) => apOfRanked(l, counts[k], p.recThrs)).filter((v) => v > -1);
    return aps.length ? aps.reduce((s, v) => s + v, 0) / aps.length : 0;
  };
  const asLists = (keep: (d: Det) => { k: number; tp: boolean } | null) => {
    const out: { score: number; order: number; tp: boolean }[][] = Array.from({ length: K }, () => []);
    for (const list of dets)
      for (const d of list) {
        const r = keep(d);
        if (r) out[r.k].push({ score: d.score, order: d.order, tp: r.tp });
      }
    return out;
  };
  const base = meanAP(
    asLists((d) => ({ k: d.cat, tp: d.gt > 0 })),
    objects,
  );
  /** Detections of one kind fixed: each takes its target if still free (highest score first), else it goes. */
  const fixTo = (kind: Kind) => {
    const taken = new Set(matchedGts);
    const won = new Map<Det, number>();
    const fixed = [...kindOf].filter(([, e]) => e.kind === kind).sort(([x], [y]) => y.score - x.score || x.order - y.order);
    for (const [d, e] of fixed)
      if (e.target && !taken.has(e.target.id)) {
        taken.add(e.target.id);
        won.set(d, e.target.k);
      }
    return asLists((d) => {
      if (kindOf.get(d)?.kind !== kind) return { k: d.cat, tp: d.gt > 0 };
      return won.has(d) ? { k: won.get(d)!, tp: true } : null;
    });
  };
  const counts = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<ErrorKind, number>;
  for (const e of kindOf.values()) counts[e.kind]++;
  counts.missed = missedPerClass.reduce((s, v) => s + v, 0);
  const apGain = {} as Record<ErrorKind, number>;
  for (const kind of ['classification', 'localisation', 'both', 'duplicate', 'background'] as Kind[]) apGain[kind] = meanAP(fixTo(kind), objects) - base;
  apGain.missed =
    meanAP(
      asLists((d) => ({ k: d.cat, tp: d.gt > 0 })),
      objects.map((n, k) => n - missedPerClass[k]),
    ) - base;
  return { baseAP: base, counts, apGain };
}

/** The extended analysis as report.md sections: scores at the best confidence and the error breakdown. */
export function extendedMarkdown(x: ExtendedMetrics): string[] {
  const f = (v: number) => v.toFixed(3);
  const out = [
    `At confidence ≥ ${x.bestConfidence.toFixed(2)} (the best macro-F1 at IoU ${x.iouThr.toFixed(2)}): precision ${f(x.macro.precision)}, recall ${f(x.macro.recall)}, F1 ${f(x.macro.f1)} (macro; pooled ${f(x.micro.precision)} / ${f(x.micro.recall)} / ${f(x.micro.f1)}).`,
    '',
    '| category | objects | TP | FP | precision | recall | F1 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...x.perClass.map((c) => `| ${c.name} | ${c.objects} | ${c.tp} | ${c.fp} | ${f(c.precision)} | ${f(c.recall)} | ${f(c.f1)} |`),
    '',
  ];
  if (x.errors) {
    out.push(
      `Errors at IoU ${x.iouThr.toFixed(2)} (TIDE-style; AP${Math.round(x.iouThr * 100)} ${f(x.errors.baseAP)}), each with the AP gained when an oracle fixes only that kind:`,
      '',
      '| error | count | AP gain |',
      '| --- | ---: | ---: |',
      ...ERROR_KINDS.map((k) => `| ${k} | ${x.errors!.counts[k]} | +${f(x.errors!.apGain[k])} |`),
      '',
    );
  }
  return out;
}
