import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '@cv/engine/core';
import { writePng } from './image-io';

/**
 * `objects`: a generated RGB classification set for transfer experiments at real-ish sizes — a textured
 * background (random colour gratings and noise), one large object whose outline is the class, drawn with its own
 * colour and texture, and 0–3 smaller distractor objects of other outlines. Two disjoint families of outlines
 * make a pretraining set and a different downstream set, so transfer is measured between tasks that share only
 * low-level structure (edges, corners, textures).
 */

type Pt = [number, number];

/** Outlines as polygons in the unit square around (0, 0), radius ≤ 1. */
const regular = (n: number, rot = 0): Pt[] =>
  Array.from({ length: n }, (_, i) => [Math.cos(rot + (2 * Math.PI * i) / n), Math.sin(rot + (2 * Math.PI * i) / n)]);
const star = (n: number, inner: number): Pt[] =>
  Array.from({ length: 2 * n }, (_, i) => {
    const r = i % 2 ? inner : 1;
    const a = -Math.PI / 2 + (Math.PI * i) / n;
    return [r * Math.cos(a), r * Math.sin(a)];
  });
const poly = (pts: number[][]): Pt[] => pts.map(([x, y]) => [x, y]);

/** Each outline: a polygon, or a predicate on (x, y) in object coordinates (rings, crescents). */
type Outline = { polygon: Pt[] } | { inside: (x: number, y: number) => boolean };

export const OUTLINES: Record<string, Outline> = {
  // Pretraining family.
  circle: { inside: (x, y) => x * x + y * y <= 1 },
  square: { polygon: regular(4, Math.PI / 4).map(([x, y]) => [x * 1.3, y * 1.3]) },
  triangle: { polygon: regular(3, -Math.PI / 2) },
  hexagon: { polygon: regular(6) },
  star5: { polygon: star(5, 0.45) },
  ring: { inside: (x, y) => x * x + y * y <= 1 && x * x + y * y >= 0.36 },
  cross: {
    polygon: poly([
      [-0.3, -1],
      [0.3, -1],
      [0.3, -0.3],
      [1, -0.3],
      [1, 0.3],
      [0.3, 0.3],
      [0.3, 1],
      [-0.3, 1],
      [-0.3, 0.3],
      [-1, 0.3],
      [-1, -0.3],
      [-0.3, -0.3],
    ]),
  },
  diamond: {
    polygon: poly([
      [0, -1],
      [0.6, 0],
      [0, 1],
      [-0.6, 0],
    ]),
  },
  // Downstream family (never seen in pretraining).
  pentagon: { polygon: regular(5, -Math.PI / 2) },
  arrow: {
    polygon: poly([
      [-1, -0.3],
      [0.2, -0.3],
      [0.2, -0.8],
      [1, 0],
      [0.2, 0.8],
      [0.2, 0.3],
      [-1, 0.3],
    ]),
  },
  crescent: { inside: (x, y) => x * x + y * y <= 1 && (x - 0.45) ** 2 + y * y > 0.6 },
  heart: { inside: (x, y) => ((x * 1.1) ** 2 + (-y * 1.1 + 0.25) ** 2 - 0.6) ** 3 - (x * 1.1) ** 2 * (-y * 1.1 + 0.25) ** 3 <= 0 },
  octagon_star: { polygon: star(8, 0.7) },
};

export const OBJECT_FAMILIES: Record<string, string[]> = {
  pretrain: ['circle', 'square', 'triangle', 'hexagon', 'star5', 'ring', 'cross', 'diamond'],
  downstream: ['pentagon', 'arrow', 'crescent', 'heart', 'octagon_star'],
};

function insidePolygon(pts: Pt[], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

const insideOutline = (o: Outline, x: number, y: number) => ('polygon' in o ? insidePolygon(o.polygon, x, y) : o.inside(x, y));

/** A random colour texture: two gratings and per-pixel noise around a base colour. */
function texture(rng: Rng) {
  const base = [rng.uniform(30, 225), rng.uniform(30, 225), rng.uniform(30, 225)];
  const g = Array.from({ length: 2 }, () => ({
    fx: rng.uniform(-0.5, 0.5),
    fy: rng.uniform(-0.5, 0.5),
    ph: rng.uniform(0, 6.28),
    amp: [rng.uniform(-50, 50), rng.uniform(-50, 50), rng.uniform(-50, 50)],
  }));
  const noise = rng.uniform(4, 20);
  return (x: number, y: number, c: number, n: number) =>
    base[c] + g[0].amp[c] * Math.sin(g[0].fx * x + g[0].fy * y + g[0].ph) + g[1].amp[c] * Math.sin(g[1].fx * x + g[1].fy * y + g[1].ph) + noise * n;
}

/**
 * Image `index` of a seed: [size, size, 3] bytes and its class (the large object's outline within `classes`).
 */
export function makeObjectsImage(classes: string[], seed: number, index: number, size: number): { pixels: Uint8Array; label: number } {
  const rng = new Rng(((seed * 1_000_003) ^ (index * 7919)) >>> 0);
  const label = rng.int(classes.length);
  const bg = texture(rng);
  const objects: { outline: Outline; cx: number; cy: number; r: number; rot: number; sx: number; tex: ReturnType<typeof texture> }[] = [];
  const distractors = rng.int(4);
  const others = Object.keys(OUTLINES).filter((n) => n !== classes[label]);
  for (let d = 0; d < distractors; d++) {
    const name = others[rng.int(others.length)];
    objects.push({
      outline: OUTLINES[name],
      cx: rng.uniform(0, size),
      cy: rng.uniform(0, size),
      r: size * rng.uniform(0.08, 0.14),
      rot: rng.uniform(0, 6.28),
      sx: rng.uniform(0.8, 1.2),
      tex: texture(rng),
    });
  }
  // The class object: large, mostly inside the frame, drawn last (on top).
  const r = size * rng.uniform(0.22, 0.34);
  objects.push({
    outline: OUTLINES[classes[label]],
    cx: rng.uniform(r * 0.8, size - r * 0.8),
    cy: rng.uniform(r * 0.8, size - r * 0.8),
    r,
    rot: rng.uniform(-0.5, 0.5),
    sx: rng.uniform(0.85, 1.15),
    tex: texture(rng),
  });
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let tex = bg;
      for (const o of objects) {
        const dx = (x + 0.5 - o.cx) / o.r;
        const dy = (y + 0.5 - o.cy) / o.r;
        const c = Math.cos(o.rot);
        const s = Math.sin(o.rot);
        if (insideOutline(o.outline, (c * dx + s * dy) / o.sx, -s * dx + c * dy)) tex = o.tex;
      }
      const n = rng.normal();
      for (let ch = 0; ch < 3; ch++) pixels[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(tex(x, y, ch, n))));
    }
  }
  return { pixels, label };
}

/**
 * Writes an image folder `<out>/{train,test}/<class>/<i>.png` (classify's `--dataset <out>`). Written beside its
 * place and renamed when complete.
 */
export async function writeObjects(
  out: string,
  o: { family: string; train: number; test: number; seed: number; size: number; onProgress?: (done: number) => void },
): Promise<{ classes: string[] }> {
  const classes = OBJECT_FAMILIES[o.family];
  if (!classes) throw new Error(`unknown family '${o.family}'; available: ${Object.keys(OBJECT_FAMILIES).join(', ')}`);
  if (fs.existsSync(out) && fs.readdirSync(out).length) throw new Error(`'${out}' exists and is not empty; pick another --out or remove it`);
  const tmp = `${out}.writing-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  let done = 0;
  for (const [split, n, offset] of [
    ['train', o.train, 0],
    ['test', o.test, 1_000_000],
  ] as const) {
    for (const c of classes) fs.mkdirSync(path.join(tmp, split, c), { recursive: true });
    for (let i = 0; i < n; i++) {
      const { pixels, label } = makeObjectsImage(classes, o.seed, offset + i, o.size);
      await writePng(path.join(tmp, split, classes[label], `${String(i).padStart(6, '0')}.png`), pixels, [o.size, o.size, 3]);
      o.onProgress?.(++done);
    }
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  return { classes };
}

/** One object of a detection scene: its class index and its visible pixels' box [x, y, w, h]. */
export interface SceneObject {
  classIndex: number;
  bbox: [number, number, number, number];
  area: number;
}

/**
 * A detection scene: the same textured background, 1–5 objects of `classes` (and 0–2 distractors of outlines outside
 * them, unlabelled), drawn in order; each labelled object's box is the box of its visible pixels (objects hidden
 * below 40 visible pixels are dropped).
 */
export function makeObjectsScene(classes: string[], seed: number, index: number, size: number): { pixels: Uint8Array; objects: SceneObject[] } {
  const rng = new Rng(((seed * 2_000_003) ^ (index * 104729)) >>> 0);
  const bg = texture(rng);
  const others = Object.keys(OUTLINES).filter((n) => !classes.includes(n));
  const items: { outline: Outline; cx: number; cy: number; r: number; rot: number; sx: number; tex: ReturnType<typeof texture>; cls: number }[] = [];
  const add = (outline: Outline, cls: number, rMin: number, rMax: number) => {
    const r = size * rng.uniform(rMin, rMax);
    items.push({
      outline,
      cx: rng.uniform(r * 0.6, size - r * 0.6),
      cy: rng.uniform(r * 0.6, size - r * 0.6),
      r,
      rot: rng.uniform(-0.6, 0.6),
      sx: rng.uniform(0.85, 1.15),
      tex: texture(rng),
      cls,
    });
  };
  for (let d = rng.int(3); d > 0; d--) add(OUTLINES[others[rng.int(others.length)]], -1, 0.05, 0.1);
  for (let n = 1 + rng.int(5); n > 0; n--) {
    const c = rng.int(classes.length);
    add(OUTLINES[classes[c]], c, 0.08, 0.2);
  }
  const owner = new Int16Array(size * size).fill(-1);
  const pixels = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let tex = bg;
      items.forEach((o, k) => {
        const dx = (x + 0.5 - o.cx) / o.r;
        const dy = (y + 0.5 - o.cy) / o.r;
        const c = Math.cos(o.rot);
        const s = Math.sin(o.rot);
        if (insideOutline(o.outline, (c * dx + s * dy) / o.sx, -s * dx + c * dy)) {
          tex = o.tex;
          owner[y * size + x] = k;
        }
      });
      const n = rng.normal();
      for (let ch = 0; ch < 3; ch++) pixels[(y * size + x) * 3 + ch] = Math.max(0, Math.min(255, Math.round(tex(x, y, ch, n))));
    }
  }
  const objects: SceneObject[] = [];
  items.forEach((o, k) => {
    if (o.cls < 0) return;
    let [x0, y0, x1, y1, area] = [size, size, -1, -1, 0];
    for (let i = 0; i < owner.length; i++) {
      if (owner[i] !== k) continue;
      const x = i % size;
      const y = (i - x) / size;
      x0 = Math.min(x0, x);
      y0 = Math.min(y0, y);
      x1 = Math.max(x1, x);
      y1 = Math.max(y1, y);
      area++;
    }
    if (area >= 40) objects.push({ classIndex: o.cls, bbox: [x0, y0, x1 - x0 + 1, y1 - y0 + 1], area });
  });
  return { pixels, objects };
}

/** Writes a COCO detection set `<out>/images/*.png` + `<out>/annotations.json` of objects scenes (detect:train's --data). */
export async function writeObjectsDetection(
  out: string,
  o: { family: string; n: number; seed: number; size: number; onProgress?: (done: number) => void },
): Promise<{ classes: string[]; objects: number }> {
  const classes = OBJECT_FAMILIES[o.family];
  if (!classes) throw new Error(`unknown family '${o.family}'; available: ${Object.keys(OBJECT_FAMILIES).join(', ')}`);
  if (fs.existsSync(out) && fs.readdirSync(out).length) throw new Error(`'${out}' exists and is not empty; pick another --out or remove it`);
  const tmp = `${out}.writing-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.join(tmp, 'images'), { recursive: true });
  const images: object[] = [];
  const annotations: object[] = [];
  for (let i = 0; i < o.n; i++) {
    const { pixels, objects } = makeObjectsScene(classes, o.seed, i, o.size);
    const file = `${String(i).padStart(6, '0')}.png`;
    await writePng(path.join(tmp, 'images', file), pixels, [o.size, o.size, 3]);
    images.push({ id: i + 1, file_name: file, width: o.size, height: o.size });
    for (const ob of objects)
      annotations.push({ id: annotations.length + 1, image_id: i + 1, category_id: ob.classIndex + 1, bbox: ob.bbox, area: ob.area, iscrowd: 0 });
    o.onProgress?.(i + 1);
  }
  const categories = classes.map((name, i) => ({ id: i + 1, name }));
  fs.writeFileSync(path.join(tmp, 'annotations.json'), JSON.stringify({ images, annotations, categories }));
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  return { classes, objects: annotations.length };
}
