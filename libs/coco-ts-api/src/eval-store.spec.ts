/** evaluate()'s flat entries: the same accumulate() whether read flat or as evalImgs objects, and evalImgs stay pycocotools' list. */
import { describe, expect, it } from 'vitest';
import { COCO, type CocoAnnotation, type CocoResult } from './coco';
import { COCOeval } from './eval';

type Box = [number, number, number, number];

/** A seeded scene set: 3 categories, crowds, small and large boxes, ties in score. */
function scenes(images: number, seed = 1) {
  let s = seed;
  const r = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const anns: CocoAnnotation[] = [];
  const dets: CocoResult[] = [];
  for (let i = 1; i <= images; i++) {
    for (let g = 0; g < 1 + Math.floor(r() * 4); g++) {
      const box: Box = [Math.floor(r() * 150), Math.floor(r() * 150), 4 + Math.floor(r() * 120), 4 + Math.floor(r() * 120)];
      const cat = 1 + Math.floor(r() * 3);
      anns.push({ id: anns.length + 1, image_id: i, category_id: cat, bbox: box, area: box[2] * box[3], iscrowd: r() < 0.1 ? 1 : 0 });
      for (let k = 0; k < 3; k++)
        dets.push({
          image_id: i,
          category_id: r() < 0.8 ? cat : 1 + Math.floor(r() * 3),
          bbox: box.map((v) => v + Math.floor(r() * 9) - 4) as Box,
          score: Math.round(r() * 10) / 10,
        });
    }
  }
  const images_ = Array.from({ length: images }, (_, i) => ({ id: i + 1, width: 300, height: 300 }));
  return { gt: new COCO({ images: images_, categories: [1, 2, 3].map((id) => ({ id, name: `c${id}` })), annotations: anns }), dets };
}

function run(touch: (E: COCOeval) => void = () => {}, setup: (E: COCOeval) => void = () => {}) {
  const { gt, dets } = scenes(40);
  const E = new COCOeval(gt, gt.loadRes(dets), 'bbox');
  setup(E);
  E.evaluate();
  touch(E);
  return { E, r: E.accumulate() };
}

describe('flat evaluation entries', () => {
  it('accumulate() is bit-equal whether it reads the flat entries or the evalImgs objects', () => {
    const flat = run().r;
    const objects = run((E) => void E.evalImgs.length).r;
    expect(Array.from(objects.precision)).toEqual(Array.from(flat.precision));
    expect(Array.from(objects.recall)).toEqual(Array.from(flat.recall));
    expect(Array.from(objects.scores)).toEqual(Array.from(flat.scores));
    expect(flat.precision.some((v) => v > 0)).toBe(true);
  });

  it('entries changed by hand are what accumulate() reads (as pycocotools reads self.evalImgs)', () => {
    const before = run().r;
    const after = run((E) => {
      for (const e of E.evalImgs) if (e) e.dtIgnore.fill(1); // every detection ignored
    }).r;
    expect(Math.max(...before.recall)).toBeGreaterThan(0);
    expect(Math.max(...after.recall)).toBe(0);
    const cleared = run((E) => {
      E.evalImgs = E.evalImgs.map(() => null);
    }).r;
    expect(Array.from(cleared.recall).every((v) => v === -1)).toBe(true);
  });

  it('evaluateImg with a smaller maxDet equals the entry of an evaluation at that maxDets', () => {
    const { E } = run();
    const { E: E1 } = run(undefined, (e) => (e.params.maxDets = [1]));
    const I = E1.params.imgIds.length;
    let compared = 0;
    E1.evalImgs.forEach((e, n) => {
      if (!e) return;
      const a = Math.floor(n / I) % E1.params.areaRng.length;
      expect(E.evaluateImg(e.image_id, e.category_id, E.params.areaRng[a], 1)).toEqual({ ...e, aRng: E.params.areaRng[a] });
      compared++;
    });
    expect(compared).toBeGreaterThan(50);
  });
});
