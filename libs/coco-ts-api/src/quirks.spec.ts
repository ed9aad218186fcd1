/** Hand-made cases for each pycocotools behaviour the port must reproduce, with values worked out by hand. */
import { describe, expect, it } from 'vitest';
import { COCO, CocoError, type CocoResult } from './coco';
import { COCOeval, evalRow } from './eval';
import { linspace, pairwiseSum, pyFixed } from './numeric';
import { area, frBbox, frPoly, frPyObjects } from './mask-api';
import type { RLE } from './mask';

type Box = [number, number, number, number];
const EPS = 2.220446049250313e-16;

/** A one-category ground truth over `n` images of 200×200. */
function gtSet(anns: { img?: number; bbox: Box; area?: number; iscrowd?: number; cat?: number }[], n = 1, cats = [1]) {
  return new COCO({
    images: Array.from({ length: n }, (_, i) => ({ id: i + 1, width: 200, height: 200 })),
    categories: cats.map((id) => ({ id, name: `c${id}` })),
    annotations: anns.map((a, i) => ({
      id: i + 1,
      image_id: a.img ?? 1,
      category_id: a.cat ?? 1,
      bbox: a.bbox,
      area: a.area ?? a.bbox[2] * a.bbox[3],
      iscrowd: a.iscrowd ?? 0,
    })),
  });
}

const det = (bbox: Box, score: number, img = 1, cat = 1): CocoResult => ({ image_id: img, category_id: cat, bbox, score });

function evaluate(gt: COCO, dets: CocoResult[], setup?: (E: COCOeval) => void) {
  const E = new COCOeval(gt, gt.loadRes(dets), 'bbox');
  setup?.(E);
  E.evaluate();
  E.accumulate();
  E.summarize(() => {});
  return E;
}

/** AP at IoU .5 over all areas, last maxDets, category index 0. */
const ap50 = (E: COCOeval) => E.perCategory()[0].ap50;

describe('COCOeval quirks (hand-computed)', () => {
  it('precision is made monotone from the right, then read at the 101 recall points', () => {
    // 2 gts; detections by score: TP, FP, TP → precision 1, 1/2, 2/3 → monotone 1, 2/3, 2/3; recall .5, .5, 1.
    const gt = gtSet([{ bbox: [0, 0, 10, 10] }, { bbox: [50, 50, 10, 10] }]);
    const E = evaluate(gt, [det([0, 0, 10, 10], 0.9), det([100, 100, 10, 10], 0.8), det([50, 50, 10, 10], 0.7)]);
    // pycocotools' precision is tp / (tp + fp + eps), so even a perfect prefix is 1/(1+eps).
    const expected = pairwiseSum([...new Array(51).fill(1 / (1 + EPS)), ...new Array(50).fill(2 / (3 + EPS))]) / 101;
    expect(ap50(E)).toBe(expected);
    expect(E.stats[8]).toBe(1); // AR@100: both gts found at every threshold
  });

  it('the gt area field, not the box, decides the area range', () => {
    // A 50×50 box (medium by size) whose area field says 500 (small).
    const gt = gtSet([{ bbox: [0, 0, 50, 50], area: 500 }]);
    const E = evaluate(gt, [det([0, 0, 50, 50], 0.9)]);
    expect(E.stats[3]).toBeCloseTo(1, 12); // AP small
    expect(E.stats[4]).toBe(-1); // AP medium: no gt there
  });

  it('crowd gts are ignored and absorb any number of detections', () => {
    const gt = gtSet([{ bbox: [0, 0, 100, 100], iscrowd: 1 }, { bbox: [150, 150, 20, 20] }]);
    const dets = [det([0, 0, 10, 10], 0.95), det([10, 10, 10, 10], 0.94), det([150, 150, 20, 20], 0.5)];
    const E = evaluate(gt, dets);
    // Both boxes inside the crowd region are matched to it (IoU = inter/area(det) = 1) and ignored:
    const e = E.evalImgs[0]!;
    expect(Array.from(evalRow(e.dtMatches, 0, e.dtIds.length))).toEqual([1, 1, 2]);
    expect(Array.from(evalRow(e.dtIgnore, 0, e.dtIds.length))).toEqual([1, 1, 0]);
    expect(ap50(E)).toBeCloseTo(1, 12);
  });

  it('tied scores keep results order (stable sort) and the maxDets cut is per image', () => {
    const gt = gtSet([{ bbox: [0, 0, 10, 10] }]);
    // Same score: the first listed detection is ranked first and takes the gt.
    const a = evaluate(gt, [det([0, 0, 10, 10], 0.5), det([0, 0, 10, 9], 0.5)]);
    expect(Array.from(evalRow(a.evalImgs[0]!.dtMatches, 0, a.evalImgs[0]!.dtIds.length))).toEqual([1, 0]);
    const b = evaluate(gt, [det([0, 0, 10, 9], 0.5), det([0, 0, 10, 10], 0.5)]);
    expect(Array.from(evalRow(b.evalImgs[0]!.dtMatches, 0, b.evalImgs[0]!.dtIds.length))).toEqual([1, 0]); // the 10×9 box (IoU .9) is first and takes the gt
    expect(Array.from(evalRow(b.evalImgs[0]!.dtMatches, 9, b.evalImgs[0]!.dtIds.length))).toEqual([0, 1]); // at IoU .95 it cannot; the exact box can
    // maxDets 1: only the top detection counts; here it is a miss, so AP@maxDets=1 is 0.
    const c = evaluate(gt, [det([100, 100, 10, 10], 0.9), det([0, 0, 10, 10], 0.8)]);
    expect(c.stats[6]).toBe(0); // AR@1
    expect(c.stats[8]).toBe(1); // AR@100
  });

  it('greedy matching prefers a regular gt over a crowd one, even with lower IoU', () => {
    const gt = gtSet([{ bbox: [0, 0, 10, 10], iscrowd: 1 }, { bbox: [0, 0, 10, 12] }]);
    const E = evaluate(gt, [det([0, 0, 10, 10], 0.9)]);
    const e = E.evalImgs[0]!;
    expect(e.gtIds).toEqual([2, 1]); // regular gts first
    expect(Array.from(evalRow(e.dtMatches, 0, e.dtIds.length))).toEqual([2]); // IoU 10/12 with the regular gt beats 1.0 with the crowd
    expect(Array.from(evalRow(e.dtIgnore, 0, e.dtIds.length))).toEqual([0]);
  });

  it('an IoU exactly at the threshold matches', () => {
    const gt = gtSet([{ bbox: [0, 0, 10, 10] }]);
    const E = evaluate(gt, [det([0, 0, 10, 5], 0.9)]); // IoU = 50/100 = 0.5
    expect(Array.from(evalRow(E.evalImgs[0]!.dtMatches, 0, E.evalImgs[0]!.dtIds.length))).toEqual([1]);
    expect(Array.from(evalRow(E.evalImgs[0]!.dtMatches, 1, E.evalImgs[0]!.dtIds.length))).toEqual([0]);
  });

  it('−1 for categories without gt; 0 for a category with gt but no detections', () => {
    const gt = gtSet(
      [
        { bbox: [0, 0, 10, 10], cat: 1 },
        { bbox: [0, 0, 10, 10], cat: 2 },
      ],
      1,
      [1, 2, 3],
    );
    const E = evaluate(gt, [det([0, 0, 10, 10], 0.9, 1, 1), det([0, 0, 10, 10], 0.9, 1, 3)]);
    const ap = E.perCategory().map((c) => c.ap);
    expect(ap[0]).toBeCloseTo(1, 12);
    expect(ap.slice(1)).toEqual([0, -1]);
    expect(E.stats[0]).toBeCloseTo(0.5, 12); // the mean leaves out −1
  });

  it('user-set imgIds, catIds, maxDets and useCats=0', () => {
    const gt = gtSet(
      [
        { bbox: [0, 0, 10, 10], img: 1, cat: 1 },
        { bbox: [0, 0, 10, 10], img: 2, cat: 2 },
      ],
      2,
      [1, 2],
    );
    const dets = [det([0, 0, 10, 10], 0.9, 1, 2), det([0, 0, 10, 10], 0.8, 2, 2)];
    // cat 1: gt but no detections → 0; cat 2: a FP (0.9, image 1) then a TP (0.8) → precision .5 at recall 1.
    expect(evaluate(gt, dets).stats[1]).toBeCloseTo(0.25, 12);
    const onlyImg2 = evaluate(gt, dets, (E) => (E.params.imgIds = [2]));
    const per = onlyImg2.perCategory().map((c) => c.ap50);
    expect(per[0]).toBe(-1);
    expect(per[1]).toBeCloseTo(1, 12);
    const onlyCat2 = evaluate(gt, dets, (E) => (E.params.catIds = [2]));
    expect(onlyCat2.perCategory()).toHaveLength(1);
    const agnostic = evaluate(gt, dets, (E) => (E.params.useCats = 0));
    expect(agnostic.eval!.counts[2]).toBe(1);
    expect(agnostic.stats[1]).toBeCloseTo(1, 12); // categories ignored: both detections hit a gt
    const md = evaluate(gt, dets, (E) => (E.params.maxDets = [100, 1, 10]));
    expect(md.params.maxDets).toEqual([1, 10, 100]);
  });

  it('numerics follow numpy and Python formatting', () => {
    expect(linspace(0.5, 0.95, 10)[8]).toBe(0.8999999999999999);
    expect(linspace(0, 1, 101)[35]).toBe(0.35000000000000003);
    expect(pyFixed(0.0625, 3)).toBe('0.062'); // Python rounds exact ties to even; toFixed would give 0.063
    expect(pyFixed(0.3115, 3)).toBe('0.311'); // 0.3115 is 0.31149999… in binary: no tie
    expect(pyFixed(0.0375, 2)).toBe((0.0375).toFixed(2));
    expect(pyFixed(0.1875, 3)).toBe('0.188'); // exact tie, odd digit: rounds up as Python does
    expect(pyFixed(-1, 3)).toBe('-1.000');
  });
});

describe('bad input gives a clear error naming the annotation or field', () => {
  const base = () => ({ images: [{ id: 1, width: 10, height: 10 }], categories: [{ id: 1, name: 'a' }] });

  it.each([
    [{ id: 7, image_id: 1, category_id: 1, area: 4, iscrowd: 0 }, 'bbox', /annotation 7: missing 'bbox'/],
    [{ id: 8, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], iscrowd: 0 }, 'bbox', /annotation 8: missing or non-numeric 'area'/],
    [{ id: 9, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4 }, 'bbox', /annotation 9: missing or non-numeric 'iscrowd'/],
    [
      { id: 10, image_id: 1, category_id: 1, area: 4, iscrowd: 0, segmentation: { foo: 1 } },
      'segm',
      /annotation 10: 'segmentation' is neither a polygon list nor an RLE/,
    ],
    [
      { id: 11, image_id: 1, category_id: 1, area: 4, iscrowd: 1, segmentation: { size: [10, 10], counts: [5, 5] } },
      'segm',
      /annotation 11: .*counts sum to 10, but size 10×10 needs 100/,
    ],
    [
      { id: 12, image_id: 1, category_id: 1, area: 4, iscrowd: 0, segmentation: [[1, 1, 2, 2]] },
      'segm',
      /annotation 12: 'segmentation' starts with a part of 4 numbers, which pycocotools 2\.0\.11 reads as boxes and refuses/,
    ],
  ])('%j (%s)', (ann, iouType, message) => {
    const gt = new COCO({ ...base(), annotations: [ann as never] });
    const E = new COCOeval(gt, gt.loadRes([]), iouType as string);
    expect(() => E.evaluate()).toThrow(CocoError);
    expect(() => E.evaluate()).toThrow(message as RegExp);
  });

  it('an annotation without category_id, results for unknown images, an unknown iouType', () => {
    expect(() => new COCO({ ...base(), annotations: [{ id: 3, image_id: 1 } as never] })).toThrow(/annotation 3 has no numeric 'category_id'/);
    const gt = new COCO({ ...base(), annotations: [] });
    expect(() => gt.loadRes([det([0, 0, 1, 1], 0.5, 42)])).toThrow(/image ids not in the ground truth: 42/);
    expect(() => new COCOeval(gt, gt, 'keypoint')).toThrow(/unknown iouType 'keypoint'; use one of: bbox, segm/);
    expect(() => gt.loadRes([det([0, 0, 1, 1], 0.5), { image_id: 1, category_id: 1, score: 1 }])).toThrow(/result 1 .* has no 'bbox'/);
  });
});

describe('COCO index', () => {
  const gt = gtSet(
    [
      { bbox: [0, 0, 10, 10], img: 1, cat: 1 },
      { bbox: [0, 0, 40, 40], img: 2, cat: 2, iscrowd: 1 },
      { bbox: [5, 5, 5, 5], img: 2, cat: 1 },
    ],
    3,
    [1, 2],
  );
  it('answers id queries like pycocotools', () => {
    expect(gt.getAnnIds({ imgIds: [2] })).toEqual([2, 3]);
    expect(gt.getAnnIds({ catIds: [1] })).toEqual([1, 3]);
    expect(gt.getAnnIds({ areaRng: [50, 1000] })).toEqual([1]);
    expect(gt.getAnnIds({ iscrowd: true })).toEqual([2]);
    expect(gt.getImgIds({ catIds: [1] }).sort()).toEqual([1, 2]);
    expect(gt.getImgIds({ catIds: [1, 2] })).toEqual([2]);
    expect(gt.getImgIds()).toEqual([1, 2, 3]);
    expect(gt.getCatIds({ catNms: ['c2'] })).toEqual([2]);
    expect(gt.loadImgs(3)[0].width).toBe(200);
  });

  it('loadRes: ids 1..N, box area w·h, mask area and bbox from the RLE', () => {
    const res = gt.loadRes([det([1, 2, 3, 4], 0.5)]);
    expect(res.loadAnns(1)[0]).toMatchObject({ id: 1, area: 12, iscrowd: 0, segmentation: [[1, 2, 1, 6, 4, 6, 4, 2]] });
    const seg = gt.loadRes([{ image_id: 1, category_id: 1, score: 0.3, segmentation: { size: [200, 200], counts: [0, 3, 39997] } }]);
    expect(seg.loadAnns(1)[0]).toMatchObject({ area: 3, bbox: [0, 0, 1, 3] });
  });

  it('annToMask rasterises polygons', () => {
    const coco = new COCO({
      images: [{ id: 1, width: 4, height: 4 }],
      categories: [{ id: 1, name: 'a' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, segmentation: [[0, 0, 2, 0, 2, 2, 0, 2]], area: 4, iscrowd: 0, bbox: [0, 0, 2, 2] }],
    });
    const m = coco.annToMask(coco.loadAnns(1)[0]);
    expect(m.data.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });
});

describe('pycocotools behaviours at the edges of the format', () => {
  const img = { id: 1, width: 20, height: 20 };
  const cats = [{ id: 1, name: 'a' }];

  it('an odd-length polygon uses ⌊n/2⌋ points; a later part of 4 numbers rasterises to nothing', () => {
    const tri = [2, 2, 15, 2, 15, 15];
    const gt = new COCO({
      images: [img],
      categories: cats,
      annotations: [
        { id: 1, image_id: 1, category_id: 1, area: 1, iscrowd: 0, segmentation: [[...tri, 9]] },
        { id: 2, image_id: 1, category_id: 1, area: 1, iscrowd: 0, segmentation: [tri, [0, 0, 19, 19]] },
        { id: 3, image_id: 1, category_id: 1, area: 1, iscrowd: 0, segmentation: [tri] },
      ],
    });
    const [odd, withLine, plain] = [1, 2, 3].map((id) => gt.annToRLE(gt.anns.get(id)!));
    expect(odd).toEqual(plain);
    expect(withLine).toEqual(plain);
    expect(frPoly([[0, 0, 19, 19]], 20, 20).map(area)).toEqual([0]);
  });

  it('iscrowd 0.5 is ignored but no crowd in IoU and matching; 2 and true are crowds', () => {
    // One gt box and two detections on it: as a crowd, both detections match it (and are ignored); as a
    // non-crowd ignored gt, only the first matches (ignored) and the second is a false positive.
    const run = (iscrowd: unknown) => {
      const gt = new COCO({
        images: [img],
        categories: cats,
        annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: iscrowd as number }],
      });
      const dt = gt.loadRes([
        { image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 },
        { image_id: 1, category_id: 1, bbox: [0, 0, 10, 9], score: 0.8 },
      ]);
      const E = new COCOeval(gt, dt, 'bbox');
      E.evaluate();
      const e = E.evalImgs.find((x) => x && x.aRng[1] === 1e10)!;
      return { dtIgnore: Array.from(e.dtIgnore.subarray(0, 2)), gtIgnore: Array.from(e.gtIgnore) };
    };
    expect(run(0.5)).toEqual({ dtIgnore: [1, 0], gtIgnore: [1] });
    expect(run(2)).toEqual({ dtIgnore: [1, 1], gtIgnore: [1] });
    expect(run(true)).toEqual({ dtIgnore: [1, 1], gtIgnore: [1] });
    expect(run(0)).toEqual({ dtIgnore: [0, 0], gtIgnore: [0] });
  });

  it('negative or fractional maxDets are refused with one line (pycocotools would slice with them)', () => {
    const gt = new COCO({ images: [img], categories: cats, annotations: [] });
    const E = new COCOeval(gt, gt.loadRes([]), 'bbox');
    E.params.maxDets = [1, 10, -5];
    expect(() => E.evaluate()).toThrow(/params\.maxDets holds -5: .* whole numbers ≥ 0/);
    E.params.maxDets = [1, 2.5, 100];
    expect(() => E.evaluate()).toThrow(/params\.maxDets holds 2\.5/);
  });

  it('annotation ids repeated across images are refused with one line naming them (pycocotools would evaluate the last one for each)', () => {
    const anns = [
      { id: 7, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4, iscrowd: 0 },
      { id: 7, image_id: 2, category_id: 1, bbox: [1, 1, 2, 2], area: 4, iscrowd: 0 },
      { id: 8, image_id: 2, category_id: 1, bbox: [3, 3, 2, 2], area: 4, iscrowd: 0 },
    ];
    const images = [1, 2].map((id) => ({ id, width: 10, height: 10 }));
    const make = () => new COCO({ images, categories: [{ id: 1, name: 'a' }], annotations: anns as never });
    expect(make).toThrow(CocoError);
    expect(make).toThrow(/annotation id 7 appears more than once; .* give each annotation its own id/);
  });

  it('frPyObjects reads a list of 4-number entries as boxes (the N×4 array path); refuses a flat list and short polygons', () => {
    expect(
      frPyObjects(
        [
          [0, 0, 2, 2],
          [1, 1, 3, 2],
        ],
        4,
        4,
      ),
    ).toEqual(
      frBbox(
        [
          [0, 0, 2, 2],
          [1, 1, 3, 2],
        ],
        4,
        4,
      ),
    );
    expect((frPyObjects([[0, 0, 2, 2]], 4, 4) as RLE[]).map(area)).toEqual([4]);
    expect(() =>
      frPyObjects(
        [
          [0, 0, 2, 2],
          [0, 0, 3, 0, 3, 3],
        ],
        4,
        4,
      ),
    ).toThrow(/entry 0 is a box .* entry 1 is not/);
    expect(() => frPyObjects([0, 0, 2, 2], 4, 4)).toThrow(/a single flat list of numbers is not accepted/);
    expect(() => frPyObjects([0, 0, 3, 0, 3, 3], 4, 4)).toThrow(/a single flat list/);
    expect(() => frPyObjects([[0, 0, 3]], 4, 4)).toThrow(/the first polygon has 3 numbers/);
  });
});

describe('merging shards refuses what would not equal one run', () => {
  it('an image in two shards, or shards evaluated with other parameters', async () => {
    const { evaluateShard, mergeShards } = await import('./shards');
    const gt = new COCO({
      images: [
        { id: 1, width: 10, height: 10 },
        { id: 2, width: 10, height: 10 },
      ],
      categories: [{ id: 1, name: 'a' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], area: 25, iscrowd: 0 }],
    });
    const dt = gt.loadRes([{ image_id: 1, category_id: 1, bbox: [0, 0, 5, 5], score: 0.9 }]);
    const a = evaluateShard(new COCOeval(gt, dt, 'bbox'), [1, 2]);
    const b = evaluateShard(new COCOeval(gt, dt, 'bbox'), [2]);
    expect(() => mergeShards([a, b])).toThrow(/image 2 is in shards 0 and 1; give each image to one shard/);
    const other = new COCOeval(gt, dt, 'bbox');
    other.params.maxDets = [1, 10, 50];
    expect(() => mergeShards([evaluateShard(new COCOeval(gt, dt, 'bbox'), [1]), evaluateShard(other, [2])])).toThrow(
      /shard 1 was evaluated with other maxDets/,
    );
    const merged = mergeShards([evaluateShard(new COCOeval(gt, dt, 'bbox'), [2]), evaluateShard(new COCOeval(gt, dt, 'bbox'), [1])]);
    merged.accumulate();
    expect(merged.summarize(() => {})[0]).toBeCloseTo(1, 12); // pycocotools: tp / (tp + fp + eps)
  });
});
