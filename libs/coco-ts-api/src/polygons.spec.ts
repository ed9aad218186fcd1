/**
 * Polygon rasterisation and the RLE string reader against pycocotools 2.0.11 on 400 random polygons (stars,
 * convex, self-intersecting, bench-style octagons; partly outside the image; 1–3 parts; images 1×1 to 640×480),
 * written by `tools/bench/coco_polygon_cases.py`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COCO } from './coco';
import { area, frPoly, merge, toBbox } from './mask-api';
import { decodeRuns, polygonRuns, runsFromString, runsToString } from './mask';
import { runsIntersection } from './iou';

interface Case {
  h: number;
  w: number;
  polygons: number[][];
  per_part: string[];
  merged: string;
  area: number;
  toBbox: number[];
}
const ref = JSON.parse(fs.readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/polygons_random.json'), 'utf8')) as {
  cases: Case[];
};

describe('polygons as pycocotools rasterises them', () => {
  it('has the cases', () => expect(ref.cases.length).toBe(400));

  it('frPoly gives every part’s counts, merge the union', () => {
    for (const c of ref.cases) {
      const parts = frPoly(c.polygons, c.h, c.w);
      expect(parts.map((r) => r.counts)).toEqual(c.per_part);
      const m = merge(parts);
      expect(m.counts).toBe(c.merged);
      expect(area(m)).toBe(c.area);
      expect(toBbox(m)).toEqual(c.toBbox);
    }
  });

  it('annToRLE and annToRuns (the evaluator’s path, no string in between) agree with the reference', () => {
    const coco = new COCO({
      images: ref.cases.map((c, i) => ({ id: i + 1, height: c.h, width: c.w })),
      annotations: ref.cases.map((c, i) => ({ id: i + 1, image_id: i + 1, category_id: 1, segmentation: c.polygons, area: c.area, iscrowd: 0 })),
      categories: [{ id: 1, name: 'x' }],
    });
    ref.cases.forEach((c, i) => {
      const ann = coco.anns.get(i + 1)!;
      expect(coco.annToRLE(ann).counts).toBe(c.merged);
      const runs = coco.annToRuns(ann);
      const read = runsFromString(c.merged, c.h, c.w);
      expect(Array.from(runs.cnts)).toEqual(Array.from(read.cnts));
    });
  });
});

describe('run-length strings and intersections', () => {
  const rng = (seed: number) => () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;

  it('reads back every number the writer makes: 1 to 7 groups, negative differences, up to 2³² − 1', () => {
    const r = rng(3);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(r() * 40);
      const scale = [40, 2 ** 12, 2 ** 24, 2 ** 31, 2 ** 32 - 1][trial % 5];
      const cnts = Uint32Array.from({ length: n }, () => Math.floor(r() * scale));
      const text = runsToString({ h: 1, w: 1, cnts });
      expect(Array.from(runsFromString(text, 1, 1).cnts)).toEqual(Array.from(cnts));
    }
  });

  it('intersections of random masks equal the pixels counted on the decoded masks', () => {
    const r = rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const h = 1 + Math.floor(r() * 40);
      const w = 1 + Math.floor(r() * 40);
      const poly = () => Array.from({ length: 2 * (3 + Math.floor(r() * 6)) }, (_, i) => (i % 2 ? r() * h * 1.2 : r() * w * 1.2) - 2);
      const A = polygonRuns(poly(), h, w);
      const B = polygonRuns(poly(), h, w);
      const a = decodeRuns(A).data;
      const b = decodeRuns(B).data;
      let both = 0;
      for (let i = 0; i < a.length; i++) both += a[i] & b[i];
      expect(runsIntersection(A.cnts, B.cnts)).toBe(both);
    }
  });
});
