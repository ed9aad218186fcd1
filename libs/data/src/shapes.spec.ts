import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decode } from 'coco-ts-api';
import { describe, expect, it } from 'vitest';
import { makeShapesImage, rasterise, SHAPES_SIZE, writeShapes } from './shapes';
import { HARD_SHAPE_CLASSES, makeHardShapesImage } from './shapes-hard';

describe('shapes generator', () => {
  it('writes images, semantic masks and COCO annotations that agree pixel for pixel', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shapes-')), 'set');
    const coco = await writeShapes(out, { n: 12, seed: 3 });
    expect(coco.categories.map((c) => [c.id, c.name])).toEqual([
      [1, 'circle'],
      [2, 'square'],
      [3, 'triangle'],
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'annotations.json'), 'utf8')).annotations.length).toBe(coco.annotations.length);
    for (const image of coco.images) {
      const { data: semantic, info } = await sharp(path.join(out, 'masks', image.file_name))
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.channels]).toEqual([160, 160, 1]);
      const anns = coco.annotations.filter((a) => a.image_id === image.id);
      expect(anns.length).toBeGreaterThanOrEqual(1);
      expect(anns.length).toBeLessThanOrEqual(6);
      const union = new Uint8Array(160 * 160);
      for (const a of anns) {
        const m = decode(a.segmentation);
        let [x1, y1, x2, y2, count] = [1e9, 1e9, -1, -1, 0];
        for (let y = 0; y < 160; y++) {
          for (let x = 0; x < 160; x++) {
            if (!m.data[y * 160 + x]) continue;
            expect(semantic[y * 160 + x]).toBe(a.category_id); // the RLE equals the mask PNG
            union[y * 160 + x] = 1;
            count++;
            [x1, y1, x2, y2] = [Math.min(x1, x), Math.min(y1, y), Math.max(x2, x), Math.max(y2, y)];
          }
        }
        expect(a.area).toBe(count);
        expect(a.bbox).toEqual([x1, y1, x2 - x1 + 1, y2 - y1 + 1]); // tight to the rasterised mask
        expect(a.iscrowd).toBe(0);
      }
      for (let i = 0; i < union.length; i++) if (!union[i]) expect(semantic[i]).toBe(0);
      for (const a of anns) {
        for (const b of anns) {
          if (a === b) continue;
          const gapX = Math.max(b.bbox[0] - (a.bbox[0] + a.bbox[2]), a.bbox[0] - (b.bbox[0] + b.bbox[2]));
          const gapY = Math.max(b.bbox[1] - (a.bbox[1] + a.bbox[3]), a.bbox[1] - (b.bbox[1] + b.bbox[3]));
          expect(Math.max(gapX, gapY)).toBeGreaterThanOrEqual(2); // boxes at least 2 px apart
        }
      }
    }
    await expect(writeShapes(out, { n: 2, seed: 3 })).rejects.toThrow(/exists and is not empty/);
  });

  it('is seeded per image, sizes and colours as specified', () => {
    const a = makeShapesImage(7, 5);
    expect(Buffer.from(makeShapesImage(7, 5).pixels).equals(Buffer.from(a.pixels))).toBe(true);
    expect(Buffer.from(makeShapesImage(8, 5).pixels).equals(Buffer.from(a.pixels))).toBe(false);
    for (let i = 0; i < 30; i++) {
      for (const o of makeShapesImage(1, i).objects) {
        expect(2 * o.radius).toBeGreaterThanOrEqual(12);
        expect(2 * o.radius).toBeLessThanOrEqual(64);
        expect(o.cx - o.radius).toBeGreaterThanOrEqual(0);
        expect(o.cx + o.radius).toBeLessThanOrEqual(SHAPES_SIZE);
      }
    }
  });

  it('rasterises a circle, an axis-aligned square and a triangle with the expected areas', () => {
    const base = { cx: 80, cy: 80, radius: 20, color: [0, 0, 0] as [number, number, number] };
    const ratio = (m: Uint8Array, area: number) => m.reduce((s, v) => s + v, 0) / area;
    expect(ratio(rasterise({ ...base, categoryId: 1, angle: 0 }), Math.PI * 400)).toBeCloseTo(1, 1);
    expect(ratio(rasterise({ ...base, categoryId: 2, angle: Math.PI / 4 }), 2 * 400)).toBeCloseTo(1, 1); // side r√2
    expect(ratio(rasterise({ ...base, categoryId: 3, angle: 0.3 }), ((3 * Math.sqrt(3)) / 4) * 400)).toBeCloseTo(1, 1);
  });

  it('the hard variant: sizes 160–320, six classes, occlusion with at least half of each object visible, crowds and empty images', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'shapes-hard-')), 'set');
    const coco = await writeShapes(out, { n: 40, seed: 5, hard: true });
    expect(coco.categories.map((c) => c.name)).toEqual([...HARD_SHAPE_CLASSES]);
    const counts = coco.images.map((im) => coco.annotations.filter((a) => a.image_id === im.id).length);
    expect(counts).toContain(0); // empty images
    expect(Math.max(...counts)).toBeGreaterThanOrEqual(8); // a crowd
    expect(new Set(coco.images.map((im) => im.width)).size).toBeGreaterThan(10);
    let occluded = 0;
    for (const image of coco.images) {
      expect(image.width).toBeGreaterThanOrEqual(160);
      expect(image.width).toBeLessThanOrEqual(320);
      expect(image.height).toBeGreaterThanOrEqual(160);
      expect(image.height).toBeLessThanOrEqual(320);
      const { data: semantic, info } = await sharp(path.join(out, 'masks', image.file_name))
        .toColourspace('b-w')
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([image.width, image.height]);
      const generated = makeHardShapesImage(5, image.id - 1);
      for (const a of coco.annotations.filter((x) => x.image_id === image.id)) {
        const m = decode(a.segmentation);
        let count = 0;
        for (let i = 0; i < m.data.length; i++) {
          if (!m.data[i]) continue;
          expect(semantic[i]).toBe(a.category_id); // visible pixels only: the mask PNG agrees
          count++;
        }
        expect(a.area).toBe(count);
        const o = generated.objects.find((g) => g.area === a.area && g.categoryId === a.category_id)!;
        const full = rasterise(o, image.width, image.height).reduce((s, v) => s + v, 0);
        expect(count).toBeGreaterThanOrEqual(0.5 * full); // at least half visible (border cuts aside: full is in-frame)
        if (count < full) occluded++;
      }
    }
    expect(occluded).toBeGreaterThan(0);
    expect(Buffer.from(makeHardShapesImage(5, 3).pixels).equals(Buffer.from(makeHardShapesImage(5, 3).pixels))).toBe(true);
  });
});
