/** extendedMetrics on a case small enough to work out by hand: one object of each error kind. */
import { describe, expect, it } from 'vitest';
import { COCO, type CocoResult } from './coco';
import { COCOeval } from './eval';
import { apOfRanked, extendedMetrics } from './extended';
import { linspace } from './numeric';
import { frPoly } from './mask-api';

type Box = [number, number, number, number];

// Class 1 ('a'): g1 at the origin (found), g3 far away (missed). Class 2 ('b'): g2 (found only as another class,
// and by a loose box).
const gt = new COCO({
  images: [{ id: 1, width: 300, height: 300 }],
  categories: [
    { id: 1, name: 'a' },
    { id: 2, name: 'b' },
  ],
  annotations: [
    { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 },
    { id: 2, image_id: 1, category_id: 2, bbox: [50, 50, 10, 10], area: 100, iscrowd: 0 },
    { id: 3, image_id: 1, category_id: 1, bbox: [100, 100, 10, 10], area: 100, iscrowd: 0 },
  ],
});
const det = (category_id: number, bbox: Box, score: number): CocoResult => ({ image_id: 1, category_id, bbox, score });
const dets = [
  det(1, [0, 0, 10, 10], 0.9), // true positive on g1
  det(1, [1, 0, 10, 10], 0.8), // duplicate: IoU 90/110 with g1, taken
  det(1, [50, 50, 10, 10], 0.7), // classification: IoU 1 with g2 of class b
  det(2, [55, 50, 10, 10], 0.6), // localisation: IoU 50/150 with g2
  det(2, [150, 150, 10, 10], 0.5), // background
];

function analyse() {
  const E = new COCOeval(gt, gt.loadRes(dets), 'bbox');
  E.evaluate();
  E.accumulate();
  E.summarize(() => {});
  return { E, x: extendedMetrics(E) };
}

describe('extendedMetrics', () => {
  const { E, x } = analyse();
  const apA = 51 / 101; // recall 0.5 at precision 1: the thresholds 0 … 0.50
  const base = (apA + 0) / 2;

  it('P / R / F1 per class at the confidence that maximises macro-F1, and the confidence', () => {
    // Class a: F1 2/3 above 0.8 (1 TP, 0 FP), 0.5 at 0.71…0.8, 0.4 below; class b has no true positive: F1 0.
    expect(x.bestConfidence).toBe(linspace(0, 1, 101)[81]);
    expect(x.perClass[0]).toMatchObject({ name: 'a', objects: 2, tp: 1, fp: 0, precision: 1, recall: 0.5 });
    expect(x.perClass[0].f1).toBeCloseTo(2 / 3, 15);
    expect(x.perClass[1]).toMatchObject({ name: 'b', objects: 1, tp: 0, fp: 0, precision: 0, recall: 0, f1: 0 });
    expect(x.macro.f1).toBeCloseTo(1 / 3, 15);
    expect(x.micro).toEqual({ precision: 1, recall: 1 / 3, f1: 0.5 });
    expect(x.curves.f1[0][50]).toBeCloseTo(0.4, 15); // confidence 0.50: 1 TP, 2 FP
    expect(x.curves.f1[0][75]).toBeCloseTo(0.5, 15);
    expect(x.curves.macroF1).toHaveLength(101);
  });

  it('the PR curve and AP per class × area come from accumulate()', () => {
    expect(x.curves.pr.precision[0].slice(0, 51).every((v) => Math.abs(v - 1) < 1e-12)).toBe(true);
    expect(x.curves.pr.precision[0].slice(51).every((v) => v === 0)).toBe(true);
    expect(x.apByClassArea.areas).toEqual(['all', 'small', 'medium', 'large']);
    expect(x.apByClassArea.ap[0][0]).toBe(E.perCategory()[0].ap);
  });

  it('one error of each kind, counted, and the AP@.5 each fix gains (worked out by hand)', () => {
    const err = x.errors!;
    expect(err.counts).toEqual({ classification: 1, localisation: 1, both: 0, duplicate: 1, background: 1, missed: 1 });
    expect(err.baseAP).toBeCloseTo(base, 12);
    expect(err.baseAP).toBeCloseTo((E.perCategory()[0].ap50 + E.perCategory()[1].ap50) / 2, 12);
    // Fixing the class (or the box) makes g2 found: class b's AP 1. Fixing the missed object: class a's AP 1.
    expect(err.apGain.classification).toBeCloseTo((apA + 1) / 2 - base, 12);
    expect(err.apGain.localisation).toBeCloseTo((apA + 1) / 2 - base, 12);
    expect(err.apGain.missed).toBeCloseTo((1 + 0) / 2 - base, 12);
    // Removing a duplicate or a background box changes nothing here: recall 0.5 is reached before them.
    expect(err.apGain.duplicate).toBeCloseTo(0, 12);
    expect(err.apGain.background).toBeCloseTo(0, 12);
    expect(err.apGain.both).toBe(0);
  });

  it('apOfRanked equals pycocotools’ interpolated AP of a ranked list', () => {
    const recThrs = linspace(0, 1, 101);
    expect(apOfRanked([], 3, recThrs)).toBe(0);
    expect(apOfRanked([], 0, recThrs)).toBe(-1);
    // TP, FP, TP over 2 objects: precision envelope 1 up to recall .5, then 2/3 up to recall 1.
    const ap = apOfRanked(
      [
        { score: 0.9, order: 0, tp: true },
        { score: 0.8, order: 1, tp: false },
        { score: 0.7, order: 2, tp: true },
      ],
      2,
      recThrs,
    );
    expect(ap).toBeCloseTo((51 * 1 + 50 * (2 / (3 + 2.220446049250313e-16))) / 101, 14);
  });

  it('segm: the same scene as masks gives the same kinds of error (overlaps read from the RLEs)', () => {
    const poly = ([x, y, w, h]: number[]) => [x, y, x + w, y, x + w, y + h, x, y + h];
    const gtSegm = new COCO({
      ...gt.dataset,
      annotations: gt.dataset.annotations!.map((a) => ({ ...a, segmentation: [poly(a.bbox as number[])] })),
    });
    const dtSegm = dets.map(({ bbox, ...d }) => ({ ...d, segmentation: frPoly([poly(bbox!)], 300, 300)[0] }));
    const E2 = new COCOeval(gtSegm, gtSegm.loadRes(dtSegm), 'segm');
    E2.evaluate();
    E2.accumulate();
    expect(extendedMetrics(E2).errors!.counts).toEqual({ classification: 1, localisation: 1, both: 0, duplicate: 1, background: 1, missed: 1 });
  });

  it('refuses before accumulate() and at an IoU that is not a threshold', () => {
    const E2 = new COCOeval(gt, gt.loadRes(dets), 'bbox');
    expect(() => extendedMetrics(E2)).toThrow(/run evaluate\(\) and accumulate\(\)/);
    expect(() => extendedMetrics(E, { iouThr: 0.52 })).toThrow(/iouThr 0.52 is not one of params.iouThrs/);
  });
});
