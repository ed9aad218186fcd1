import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { encode, type RLE } from 'coco-ts-api';
import { deriveSeed, Rng, writeFileAtomic } from '@cv/engine';

/**
 * The `shapes` detection / segmentation sets: RGB 160×160 images, a linear gradient between two random
 * colours plus Gaussian noise (σ 8) as background, 1–6 non-overlapping objects of three classes (circle,
 * square, triangle) in solid colours clearly apart from the background, circumscribed diameter 12–64 px,
 * squares and triangles rotated uniformly, boxes at least 2 px apart. Seeded per image.
 */

export const SHAPE_CLASSES = ['circle', 'square', 'triangle'] as const;
export const SHAPES_SIZE = 160;

export interface ShapeObject {
  /** 1 = circle, 2 = square, 3 = triangle (COCO category ids; 0 in masks is background). */
  categoryId: number;
  cx: number;
  cy: number;
  /** Circumscribed radius in pixels (diameter 12–64). */
  radius: number;
  /** Rotation in radians (squares, triangles). */
  angle: number;
  color: [number, number, number];
}

export interface ShapesImage {
  /** RGB bytes, 160×160×3. */
  pixels: Uint8Array;
  /** Semantic mask: class id per pixel, 0 = background. */
  semantic: Uint8Array;
  objects: (ShapeObject & { mask: Uint8Array; bbox: [number, number, number, number]; area: number })[];
}

/** Vertices of a rotated regular polygon with `n` sides and circumradius r. */
function polygon(o: ShapeObject, n: number): [number, number][] {
  return Array.from({ length: n }, (_, i) => {
    const a = o.angle + (2 * Math.PI * i) / n - Math.PI / 2;
    return [o.cx + o.radius * Math.cos(a), o.cy + o.radius * Math.sin(a)];
  });
}

/** Is (x, y) inside a convex polygon (vertices in order)? */
function insideConvex(vertices: [number, number][], x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < vertices.length; i++) {
    const [ax, ay] = vertices[i];
    const [bx, by] = vertices[(i + 1) % vertices.length];
    const cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (cross !== 0) {
      if (sign === 0) sign = Math.sign(cross);
      else if (Math.sign(cross) !== sign) return false;
    }
  }
  return true;
}

/** The object's pixels (pixel centres inside the shape), as a 0/1 mask of the image. */
export function rasterise(o: ShapeObject, size = SHAPES_SIZE): Uint8Array {
  const mask = new Uint8Array(size * size);
  const verts = o.categoryId === 2 ? polygon(o, 4) : o.categoryId === 3 ? polygon(o, 3) : null;
  const r = Math.ceil(o.radius) + 1;
  for (let y = Math.max(0, Math.floor(o.cy - r)); y < Math.min(size, Math.ceil(o.cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(o.cx - r)); x < Math.min(size, Math.ceil(o.cx + r)); x++) {
      const px = x + 0.5;
      const py = y + 0.5;
      const inside = verts ? insideConvex(verts, px, py) : (px - o.cx) ** 2 + (py - o.cy) ** 2 <= o.radius ** 2;
      if (inside) mask[y * size + x] = 1;
    }
  }
  return mask;
}

/** Tight box [x, y, w, h] of a mask's pixels and their count. */
function maskBox(mask: Uint8Array, size: number): { bbox: [number, number, number, number]; area: number } {
  let [x1, y1, x2, y2, area] = [size, size, -1, -1, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (!mask[y * size + x]) continue;
      area++;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x);
      y2 = Math.max(y2, y);
    }
  }
  return { bbox: [x1, y1, x2 - x1 + 1, y2 - y1 + 1], area };
}

/** Distance in RGB space from a colour to the segment between the two background colours. */
function distanceToGradient(c: number[], a: number[], b: number[]): number {
  const ab = b.map((v, i) => v - a[i]);
  const len2 = ab.reduce((s, v) => s + v * v, 0);
  const t = len2 ? Math.min(1, Math.max(0, c.reduce((s, v, i) => s + (v - a[i]) * ab[i], 0) / len2)) : 0;
  return Math.sqrt(c.reduce((s, v, i) => s + (v - (a[i] + t * ab[i])) ** 2, 0));
}

const randomColor = (rng: Rng): [number, number, number] => [rng.int(256), rng.int(256), rng.int(256)];

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
    let color = randomColor(rng);
    for (let k = 0; k < 50 && distanceToGradient(color, c0, c1) < 90; k++) color = randomColor(rng);
    if (distanceToGradient(color, c0, c1) < 90) continue;
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
export async function writeShapes(out: string, { n, seed, onProgress }: { n: number; seed: number; onProgress?: (done: number) => void }): Promise<ShapesCoco> {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`--n must be a positive integer, got ${n}`);
  if (fs.existsSync(out) && fs.readdirSync(out).length) throw new Error(`'${out}' exists and is not empty; choose another --out or remove it`);
  const tmp = `${out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'images'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'masks'), { recursive: true });
  const coco: ShapesCoco = {
    info: { description: `shapes: ${n} images, seed ${seed}`, generator: 'npx nx run data:shapes' },
    images: [],
    categories: SHAPE_CLASSES.map((name, i) => ({ id: i + 1, name, supercategory: 'shape' })),
    annotations: [],
  };
  try {
    // Names of the mask values, for segmentation loaders (line i = value i).
    fs.writeFileSync(path.join(tmp, 'masks', 'classes.txt'), ['background', ...SHAPE_CLASSES].join('\n') + '\n');
    for (let i = 0; i < n; i++) {
      const img = makeShapesImage(seed, i);
      const file = `${String(i).padStart(5, '0')}.png`;
      const raw = (data: Uint8Array, channels: 1 | 3) => {
        const img = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: SHAPES_SIZE, height: SHAPES_SIZE, channels } });
        return (channels === 1 ? img.toColourspace('b-w') : img).png(); // masks: 8-bit grey PNGs, pixel = class id
      };
      await raw(img.pixels, 3).toFile(path.join(tmp, 'images', file));
      await raw(img.semantic, 1).toFile(path.join(tmp, 'masks', file));
      coco.images.push({ id: i + 1, file_name: file, width: SHAPES_SIZE, height: SHAPES_SIZE });
      for (const o of img.objects) {
        coco.annotations.push({
          id: coco.annotations.length + 1,
          image_id: i + 1,
          category_id: o.categoryId,
          bbox: o.bbox,
          area: o.area,
          segmentation: encode({ height: SHAPES_SIZE, width: SHAPES_SIZE, data: o.mask }),
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
