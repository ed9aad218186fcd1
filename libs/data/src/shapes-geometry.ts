import type { Rng } from '@cv/engine';

/** Geometry of the `shapes` sets (both variants): objects, their rasterisation, boxes and colours. No Node imports. */

/** Side of a `shapes` image (the hard variant draws its sizes). */
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
export function polygon(o: ShapeObject, n: number): [number, number][] {
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

/** Is (x, y) inside a polygon, convex or not (even-odd rule)? */
function insidePolygon(vertices: [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = vertices.length - 1; i < vertices.length; j = i++) {
    const [xi, yi] = vertices[i];
    const [xj, yj] = vertices[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** A five-pointed star's 10 vertices (inner radius 0.45 of the outer). */
function star(o: ShapeObject): [number, number][] {
  return Array.from({ length: 10 }, (_, i) => {
    const a = o.angle + (Math.PI * i) / 5 - Math.PI / 2;
    const r = i % 2 ? 0.45 * o.radius : o.radius;
    return [o.cx + r * Math.cos(a), o.cy + r * Math.sin(a)];
  });
}

/**
 * The object's pixels (pixel centres inside the shape), as a 0/1 mask of a width × height image. Category ids:
 * 1 circle, 2 square, 3 triangle (both sets), 4 pentagon, 5 hexagon, 6 star (the hard variant).
 */
export function rasterise(o: ShapeObject, width = SHAPES_SIZE, height = width): Uint8Array {
  const mask = new Uint8Array(width * height);
  const sides = [0, 0, 4, 3, 5, 6][o.categoryId] ?? 0;
  const verts = sides ? polygon(o, sides) : o.categoryId === 6 ? star(o) : null;
  const inside = (px: number, py: number) =>
    !verts ? (px - o.cx) ** 2 + (py - o.cy) ** 2 <= o.radius ** 2 : sides ? insideConvex(verts, px, py) : insidePolygon(verts, px, py);
  const r = Math.ceil(o.radius) + 1;
  for (let y = Math.max(0, Math.floor(o.cy - r)); y < Math.min(height, Math.ceil(o.cy + r)); y++) {
    for (let x = Math.max(0, Math.floor(o.cx - r)); x < Math.min(width, Math.ceil(o.cx + r)); x++) {
      if (inside(x + 0.5, y + 0.5)) mask[y * width + x] = 1;
    }
  }
  return mask;
}

/** Tight box [x, y, w, h] of a mask's pixels and their count. */
export function maskBox(mask: Uint8Array, width: number, height = width): { bbox: [number, number, number, number]; area: number } {
  let [x1, y1, x2, y2, area] = [width, height, -1, -1, 0];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
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
export function distanceToGradient(c: number[], a: number[], b: number[]): number {
  const ab = b.map((v, i) => v - a[i]);
  const len2 = ab.reduce((s, v) => s + v * v, 0);
  const t = len2 ? Math.min(1, Math.max(0, c.reduce((s, v, i) => s + (v - a[i]) * ab[i], 0) / len2)) : 0;
  return Math.sqrt(c.reduce((s, v, i) => s + (v - (a[i] + t * ab[i])) ** 2, 0));
}

export const randomColor = (rng: Rng): [number, number, number] => [rng.int(256), rng.int(256), rng.int(256)];

/** A colour at least `minDistance` from the background gradient c0 → c1 (up to 51 draws), or null. */
export function objectColour(rng: Rng, c0: number[], c1: number[], minDistance: number): [number, number, number] | null {
  let color = randomColor(rng);
  for (let k = 0; k < 50 && distanceToGradient(color, c0, c1) < minDistance; k++) color = randomColor(rng);
  return distanceToGradient(color, c0, c1) < minDistance ? null : color;
}
