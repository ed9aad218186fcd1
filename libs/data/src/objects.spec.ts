import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeObjectsImage, makeObjectsScene, OBJECT_FAMILIES, writeObjects, writeObjectsDetection } from './objects';

describe('data:objects (generated RGB images for transfer)', () => {
  const classes = OBJECT_FAMILIES.pretrain;

  it('image i of a seed is the same on every call, labels cover the classes, the families are disjoint', () => {
    const a = makeObjectsImage(classes, 1, 5, 48);
    const b = makeObjectsImage(classes, 1, 5, 48);
    expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true);
    expect(Buffer.from(makeObjectsImage(classes, 2, 5, 48).pixels).equals(Buffer.from(a.pixels))).toBe(false);
    const labels = new Set(Array.from({ length: 200 }, (_, i) => makeObjectsImage(classes, 1, i, 16).label));
    expect([...labels].sort()).toEqual(classes.map((_, i) => i));
    expect(OBJECT_FAMILIES.downstream.filter((c) => classes.includes(c))).toEqual([]);
  });

  it('scene boxes are the boxes of each object’s visible pixels, in the image', () => {
    for (let i = 0; i < 20; i++) {
      const { objects } = makeObjectsScene(OBJECT_FAMILIES.downstream, 3, i, 64);
      expect(objects.length).toBeGreaterThan(0);
      for (const o of objects) {
        const [x, y, w, h] = o.bbox;
        expect(x >= 0 && y >= 0 && x + w <= 64 && y + h <= 64).toBe(true);
        expect(o.area).toBeGreaterThanOrEqual(40);
        expect(o.area).toBeLessThanOrEqual(w * h);
      }
    }
  });

  it('writes an image folder and a COCO set, refusing a non-empty target', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'objects-'));
    await writeObjects(path.join(dir, 'cls'), { family: 'downstream', train: 6, test: 2, seed: 1, size: 32 });
    const count = (d: string) => fs.readdirSync(d).reduce((n, c) => n + fs.readdirSync(path.join(d, c)).length, 0);
    expect([count(path.join(dir, 'cls', 'train')), count(path.join(dir, 'cls', 'test'))]).toEqual([6, 2]);
    await expect(writeObjects(path.join(dir, 'cls'), { family: 'downstream', train: 1, test: 1, seed: 1, size: 32 })).rejects.toThrow(
      /exists and is not empty/,
    );
    const { objects } = await writeObjectsDetection(path.join(dir, 'det'), { family: 'downstream', n: 4, seed: 1, size: 32 });
    const coco = JSON.parse(fs.readFileSync(path.join(dir, 'det', 'annotations.json'), 'utf8'));
    expect(coco.images).toHaveLength(4);
    expect(coco.annotations).toHaveLength(objects);
    expect(coco.categories.map((c: { name: string }) => c.name)).toEqual(OBJECT_FAMILIES.downstream);
    fs.rmSync(dir, { recursive: true });
  });
});
