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
import { runsFromString } from './mask';

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
