/** iouType 'keypoints' by hand: OKS values worked out on paper, pycocotools' ignore rules, loadRes, refusals. */
import { describe, expect, it } from 'vitest';
import { COCO, CocoError, type CocoResult } from './coco';
import { COCOeval } from './eval';
import { oksInto } from './iou';

const EPS = 2.220446049250313e-16;
type Box = [number, number, number, number];

/** One image, one person category with 2 keypoints; gts as given. */
function people(anns: { kps: number[]; bbox?: number[]; area?: number; num?: number; iscrowd?: number }[]) {
  return new COCO({
    images: [{ id: 1, width: 200, height: 200 }],
    categories: [{ id: 1, name: 'person', keypoints: ['a', 'b'] }],
    annotations: anns.map((a, i) => ({
      id: i + 1,
      image_id: 1,
      category_id: 1,
      keypoints: a.kps,
      num_keypoints: a.num ?? a.kps.filter((_, j) => j % 3 === 2 && a.kps[j] > 0).length,
      ...(a.bbox === undefined ? { bbox: [10, 10, 10, 10] as Box } : a.bbox.length ? { bbox: a.bbox as Box } : {}),
      ...(a.area === -1 ? {} : { area: a.area ?? 100 }),
      iscrowd: a.iscrowd ?? 0,
    })),
  });
}

const pose = (kps: number[], score = 0.9): CocoResult => ({ image_id: 1, category_id: 1, keypoints: kps, score });

function evaluate(gt: COCO, dets: CocoResult[]) {
  const E = new COCOeval(gt, gt.loadRes(dets), 'keypoints');
  E.params.kpt_oks_sigmas = [0.1, 0.1];
  E.evaluate();
  E.accumulate();
  E.summarize(() => {});
  return E;
}

describe('keypoints (OKS)', () => {
  it('OKS by hand: one point 1 px off, the other exact; area 100, σ 0.1 → (e^(−1/0.04/100/2) + 1) / 2', () => {
    const oks = oksInto([[11, 10, 1, 20, 20, 1]], [[10, 10, 2, 20, 20, 2]], [[10, 10, 10, 10]], [100], [0.1, 0.1])[0];
    const byHand = (Math.exp(-(1 / (0.1 * 2) ** 2 / (100 + EPS) / 2)) + 1) / 2;
    expect(oks).toBe(byHand);
    expect(oks).toBeCloseTo(0.94124845, 8);
    // Matched at OKS thresholds .50 … .90 (9 of 10), not at .95: AP@[.5:.95] = 0.9, AP50 = AP75 = 1.
    const E = evaluate(people([{ kps: [10, 10, 2, 20, 20, 2] }]), [pose([11, 10, 1, 20, 20, 1])]);
    expect(E.stats).toHaveLength(10);
    expect(E.stats[0]).toBeCloseTo(0.9, 12);
    expect(E.stats[1]).toBeCloseTo(1, 12); // tp / (tp + fp + ε)
    expect(E.stats[2]).toBeCloseTo(1, 12);
    expect(E.stats[5]).toBeCloseTo(0.9, 12); // AR
  });

  it('only the labelled points count (v > 0); a gt without any uses the distance outside its box grown by its size', () => {
    // One labelled point: the other is not compared at all.
    const one = oksInto([[10, 10, 1, 90, 90, 1]], [[10, 10, 2, 0, 0, 0]], [[10, 10, 10, 10]], [100], [0.1, 0.1])[0];
    expect(one).toBe(1);
    // No labelled point: box [10, 10, 10, 10] grows to x, y ∈ [0, 30]; (35, 15) is 5 px outside, (20, 20) inside.
    const none = oksInto([[35, 15, 1, 20, 20, 1]], [[0, 0, 0, 0, 0, 0]], [[10, 10, 10, 10]], [100], [0.1, 0.1])[0];
    expect(none).toBe((Math.exp(-(25 / 0.04 / (100 + EPS) / 2)) + Math.exp(-0)) / 2);
  });

  it('a person with num_keypoints 0 is ignored (whatever its points), so is a crowd: no AP (−1), the detection ignored', () => {
    for (const gt of [people([{ kps: [10, 10, 2, 20, 20, 2], num: 0 }]), people([{ kps: [10, 10, 2, 20, 20, 2], iscrowd: 1 }])]) {
      const E = evaluate(gt, [pose([10, 10, 1, 20, 20, 1])]);
      expect(E.stats[0]).toBe(-1);
      const entry = E.evalImgs.find((e) => e && e.aRng[1] === 1e10)!;
      expect(Array.from(entry.gtIgnore)).toEqual([1]);
    }
  });

  it('keypoint results get bbox and area from their points (loadRes), ids 1..N', () => {
    const gt = people([{ kps: [10, 10, 2, 20, 20, 2] }]);
    const dt = gt.loadRes([pose([1, 2, 1, 5, 10, 1]), pose([3, 3, 1, 3, 3, 1], 0.5)]);
    expect(dt.anns.get(1)).toMatchObject({ bbox: [1, 2, 4, 8], area: 32 });
    expect(dt.anns.get(2)).toMatchObject({ bbox: [3, 3, 0, 0], area: 0 });
  });

  it('refuses with one line: no num_keypoints, no area, no gt bbox, keypoints not 3 × the sigmas', () => {
    const cases: [COCO, CocoResult[], RegExp][] = [
      [people([{ kps: [10, 10, 2, 20, 20, 2], area: -1 }]), [pose([10, 10, 1, 20, 20, 1])], /ground-truth annotation 1: missing or non-numeric 'area'/],
      [people([{ kps: [10, 10, 2, 20, 20, 2], bbox: [] }]), [pose([10, 10, 1, 20, 20, 1])], /missing 'bbox'/],
      [people([{ kps: [10, 10, 2] }]), [pose([10, 10, 1, 20, 20, 1])], /'keypoints' must be 6 numbers .* got 3/],
      [people([{ kps: [10, 10, 2, 20, 20, 2] }]), [pose([10, 10, 1, 20, 20, 1, 5, 5, 1])], /detection annotation 1: 'keypoints' must be 6 numbers/],
    ];
    const noNum = people([{ kps: [10, 10, 2, 20, 20, 2] }]);
    delete noNum.anns.get(1)!.num_keypoints;
    cases.push([noNum, [pose([10, 10, 1, 20, 20, 1])], /missing or non-numeric 'num_keypoints'/]);
    for (const [gt, dets, why] of cases) {
      let err: unknown;
      try {
        evaluate(gt, dets);
      } catch (e) {
        err = e;
      }
      expect(err, String(why)).toBeInstanceOf(CocoError);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it("defaults as pycocotools' setKpParams: maxDets [20], areas all / medium / large, COCO's 17 sigmas", () => {
    const E = new COCOeval(people([]), people([]), 'keypoints');
    expect(E.params.maxDets).toEqual([20]);
    expect(E.params.areaRngLbl).toEqual(['all', 'medium', 'large']);
    expect(E.params.areaRng).toEqual([
      [0, 1e10],
      [1024, 9216],
      [9216, 1e10],
    ]);
    expect(E.params.kpt_oks_sigmas).toHaveLength(17);
    expect(E.params.kpt_oks_sigmas[0]).toBe(0.26 / 10);
  });
});
