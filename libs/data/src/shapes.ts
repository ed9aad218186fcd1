import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { encode, type RLE } from 'coco-ts-api';
import { deriveSeed, Rng, writeFileAtomic } from '@cv/engine';
import { maskBox, objectColour, randomColor, rasterise, SHAPES_SIZE, type ShapeObject, type ShapesImage } from './shapes-geometry';
import { HARD_SHAPE_CLASSES, makeHardShapesImage } from './shapes-hard';

export * from './shapes-geometry';

/**
 * The `shapes` detection / segmentation sets: RGB 160×160 images, a linear gradient between two random
 * colours plus Gaussian noise (σ 8) as background, 1–6 non-overlapping objects of three classes (circle,
 * square, triangle) in solid colours clearly apart from the background, circumscribed diameter 12–64 px,
 * squares and triangles rotated uniformly, boxes at least 2 px apart. Seeded per image.
 */

export const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const;

/** One image of the set, from its own seed (image i of seed s is the same whatever the set size). */
export function makeShapesImage(seed: number, index: number, size = SHAPES_SIZE): ShapesImage {
  const rng = new Rng(deriveSeed(seed, 'shapes', index));
  const c0 = randomColor(rng);
  const c1 = randomColor(rng);
  const angle = rng.uniform(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const pixels = new Uint8Array(size * size * 3);
  const half = (size - 1) / 2;
  const span = Math.abs(dx) * half + Math.abs(dy) * half || 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = ((x - half) * dx + (y - half) * dy) / span / 2 + 0.5; // 0..1 along the gradient
      for (let k = 0; k < 3; k++) pixels[(y * size + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(c0[k] + t * (c1[k] - c0[k]) + 8 * rng.normal())));
    }
  }
  const semantic = new Uint8Array(size * size);
  const objects: ShapesImage['objects'] = [];
  const want = 1 + rng.int(6);
  for (let attempt = 0; objects.length < want && attempt < 200; attempt++) {
    const radius = rng.uniform(6, 32);
    const o: ShapeObject = {
      categoryId: 1 + rng.int(3),
      cx: rng.uniform(radius, size - radius),
      cy: rng.uniform(radius, size - radius),
      radius,
      angle: rng.uniform(0, 2 * Math.PI),
      color: [0, 0, 0],
    };
    const color = objectColour(rng, c0, c1, 90);
    if (!color) continue;
    o.color = color;
    const mask = rasterise(o, size);
    const { bbox, area } = maskBox(mask, size);
    if (area === 0) continue;
    // Boxes at least 2 px apart: the gap between them on x or on y is ≥ 2 pixels.
    const apart = objects.every(
      ({ bbox: b }) => bbox[0] >= b[0] + b[2] + 2 || b[0] >= bbox[0] + bbox[2] + 2 || bbox[1] >= b[1] + b[3] + 2 || b[1] >= bbox[1] + bbox[3] + 2,
    );
    if (!apart) continue;
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      semantic[i] = o.categoryId;
      pixels.set(color, i * 3);
    }
    objects.push({ ...o, mask, bbox, area });
  }
  return { pixels, semantic, objects };
}

/** The COCO dataset of a shapes set (boxes tight to the masks, area = mask pixels, segmentation = RLE). */
export interface ShapesCoco {
  info: Record<string, unknown>;
  images: { id: number; file_name: string; width: number; height: number }[];
  categories: { id: number; name: string; supercategory: string }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[]; area: number; segmentation: RLE; iscrowd: 0 }[];
}

/**
 * Writes a shapes set: `images/NNNNN.png`, `masks/NNNNN.png` (semantic, pixel = class id) and
 * `annotations.json` (COCO). Written to `<out>.tmp-<pid>` and renamed, so a failed run leaves nothing.
 *
 * @example
 * await writeShapes('datasets/shapes/train', { n: 3000, seed: 1 });
 */
export async function writeShapes(
  out: string,
  { n, seed, hard = false, onProgress }: { n: number; seed: number; hard?: boolean; onProgress?: (done: number) => void },
): Promise<ShapesCoco> {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--n must be a positive integer, got ${n}`);
  if (fs.existsSync(out) && fs.readdirSync(out).length) throw new Error(`'${out}' exists and is not empty; choose another --out or remove it`);
  const tmp = `${out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'images'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'masks'), { recursive: true });
  const coco: ShapesCoco = {
    info: { description: `shapes${hard ? ' (hard)' : ''}: ${n} images, seed ${seed}`, generator: `npx nx run data:shapes${hard ? ' -- --hard' : ''}` },
    images: [],
    categories: (hard ? HARD_SHAPE_CLASSES : SHAPE_CLASSES).map((name, i) => ({ id: i + 1, name, supercategory: 'shape' })),
    annotations: [],
  };
  try {
    // Names of the mask values, for segmentation loaders (line i = value i).
    fs.writeFileSync(path.join(tmp, 'masks', 'classes.txt'), ['background', ...(hard ? HARD_SHAPE_CLASSES : SHAPE_CLASSES)].join('\n') + '\n');
    for (let i = 0; i < n; i++) {
      const img = hard ? makeHardShapesImage(seed, i) : { ...makeShapesImage(seed, i), width: SHAPES_SIZE, height: SHAPES_SIZE };
      const { width, height } = img;
      const file = `${String(i).padStart(5, '0')}.png`;
      const raw = (data: Uint8Array, channels: 1 | 3) => {
        const img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
        return (channels === 1 ? img.toColourspace('b-w') : img).png(); // masks: 8-bit grey PNGs, pixel = class id
      };
      await raw(img.pixels, 3).toFile(path.join(tmp, 'images', file));
      await raw(img.semantic, 1).toFile(path.join(tmp, 'masks', file));
      coco.images.push({ id: i + 1, file_name: file, width, height });
      for (const o of img.objects) {
        coco.annotations.push({
          id: coco.annotations.length + 1,
          image_id: i + 1,
          category_id: o.categoryId,
          bbox: o.bbox,
          area: o.area,
          segmentation: encode({ height, width, data: o.mask }),
          iscrowd: 0,
        });
      }
      onProgress?.(i + 1);
    }
    writeFileAtomic(path.join(tmp, 'annotations.json'), JSON.stringify(coco));
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return coco;
}
