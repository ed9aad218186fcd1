import { deriveSeed, Rng } from '@cv/engine';
import { maskBox, objectColour, randomColor, rasterise, type ShapeObject, type ShapesImage } from './shapes-geometry';

/**
 * The hard variant of `shapes` (`data:shapes -- --hard`): what a detector meets past the toy set. Six classes
 * (circle, square, triangle, pentagon, hexagon, star), image sizes drawn from 160 to 320 on each side
 * independently, textured backgrounds (a gradient plus three random sinusoidal gratings, a checkerboard in a
 * quarter of the images, Gaussian noise σ 10), objects that overlap and occlude each other (every labelled
 * object keeps at least half of its pixels visible) and may be cut by the image border, crowds (a fifth of the
 * images: 8–20 small objects), empty images (a tenth) and object colours closer to the background (RGB
 * distance ≥ 70 from the gradient, 90 in `shapes`). Boxes and masks are of the visible pixels. Seeded per image.
 */
export const HARD_SHAPE_CLASSES = ['circle', 'square', 'triangle', 'pentagon', 'hexagon', 'star'] as const;
export const HARD_SIZE_RANGE: [number, number] = [160, 320];

export interface SizedShapesImage extends ShapesImage {
  width: number;
  height: number;
}

/** One image of the hard set, from its own seed (image i of seed s is the same whatever the set size). */
export function makeHardShapesImage(seed: number, index: number): SizedShapesImage {
  const rng = new Rng(deriveSeed(seed, 'shapes-hard', index));
  const [lo, hi] = HARD_SIZE_RANGE;
  const width = lo + rng.int(hi - lo + 1);
  const height = lo + rng.int(hi - lo + 1);
  const c0 = randomColor(rng);
  const c1 = randomColor(rng);
  const angle = rng.uniform(0, 2 * Math.PI);
  const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
  const gratings = Array.from({ length: 3 }, () => {
    const a = rng.uniform(0, Math.PI);
    const f = rng.uniform(0.02, 0.25) * 2 * Math.PI;
    return { fx: f * Math.cos(a), fy: f * Math.sin(a), phase: rng.uniform(0, 2 * Math.PI), amp: rng.uniform(8, 28) };
  });
  const checker = rng.next() < 0.25 ? { cell: 6 + rng.int(20), amp: rng.uniform(10, 30) } : null;
  const pixels = new Uint8Array(width * height * 3);
  const [hx, hy] = [(width - 1) / 2, (height - 1) / 2];
  const span = Math.abs(dx) * hx + Math.abs(dy) * hy || 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = ((x - hx) * dx + (y - hy) * dy) / span / 2 + 0.5;
      let texture = 0;
      for (const g of gratings) texture += g.amp * Math.sin(g.fx * x + g.fy * y + g.phase);
      if (checker) texture += (Math.floor(x / checker.cell) + Math.floor(y / checker.cell)) % 2 ? checker.amp : -checker.amp;
      for (let k = 0; k < 3; k++)
        pixels[(y * width + x) * 3 + k] = Math.max(0, Math.min(255, Math.round(c0[k] + t * (c1[k] - c0[k]) + texture + 10 * rng.normal())));
    }
  }
  const kind = rng.next();
  const [want, rMin, rMax] = kind < 0.1 ? [0, 0, 0] : kind < 0.3 ? [8 + rng.int(13), 5, 16] : [1 + rng.int(8), 6, 40];
  // Visible pixels of each placed object (later objects paint over earlier ones).
  const placed: { o: ShapeObject; full: number; shown: number; visible: Uint8Array }[] = [];
  const owner = new Int16Array(width * height).fill(-1);
  for (let attempt = 0; placed.length < want && attempt < 300; attempt++) {
    const radius = rng.uniform(rMin, rMax);
    const o: ShapeObject = {
      categoryId: 1 + rng.int(HARD_SHAPE_CLASSES.length),
      // Centres may sit up to half a radius outside the frame's inner margin: objects cut by the border.
      cx: rng.uniform(radius / 2, width - radius / 2),
      cy: rng.uniform(radius / 2, height - radius / 2),
      radius,
      angle: rng.uniform(0, 2 * Math.PI),
      color: [0, 0, 0],
    };
    const color = objectColour(rng, c0, c1, 70);
    if (!color) continue;
    o.color = color;
    const mask = rasterise(o, width, height);
    let area = 0;
    const covered = new Int32Array(placed.length);
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      area++;
      if (owner[i] >= 0) covered[owner[i]]++;
    }
    if (area < 20) continue;
    // Every object already placed keeps at least half of its own pixels visible.
    if (placed.some((p, j) => p.shown - covered[j] < 0.5 * p.full)) continue;
    placed.forEach((p, j) => (p.shown -= covered[j]));
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      if (owner[i] >= 0) placed[owner[i]].visible[i] = 0;
      owner[i] = placed.length;
    }
    placed.push({ o, full: area, shown: area, visible: mask });
  }
  const semantic = new Uint8Array(width * height);
  const objects: ShapesImage['objects'] = [];
  for (const { o, visible } of placed) {
    for (let i = 0; i < visible.length; i++) {
      if (!visible[i]) continue;
      semantic[i] = o.categoryId;
      pixels.set(o.color, i * 3);
    }
    const { bbox, area } = maskBox(visible, width, height);
    objects.push({ ...o, mask: visible, bbox, area });
  }
  return { pixels, semantic, objects, width, height };
}
