/**
 * pycocotools.mask, function for function: `encode`, `decode`, `area`, `toBbox`, `merge`, `iou`,
 * `frPyObjects` (`frPoly`, `frBbox`, `frUncompressedRLE`). Masks are row-major here (`Mask`); RLEs are
 * column-major as in COCO files.
 */
import {
  type Bbox,
  bboxRuns,
  checkRuns,
  decodeRuns,
  encodeRuns,
  fromRLE,
  type Mask,
  MaskError,
  mergeRuns,
  type Polygon,
  polygonRuns,
  type RLE,
  type Runs,
  runsArea,
  runsToBbox,
  toRLE,
  type UncompressedRLE,
} from './mask';
import { bboxIou, runsIou } from './iou';

export type { Bbox, Mask, Polygon, RLE, UncompressedRLE } from './mask';
export { MaskError } from './mask';

/** A row-major mask from nested rows ([h][w] of 0/1). */
export function maskFromRows(rows: ArrayLike<number>[]): Mask {
  const height = rows.length;
  const width = height ? rows[0].length : 0;
  const data = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = rows[y][x] ? 1 : 0;
  return { height, width, data };
}

/** Nested rows ([h][w] of 0/1) from a mask. */
export function maskToRows(mask: Mask): number[][] {
  return Array.from({ length: mask.height }, (_, y) => Array.from(mask.data.subarray(y * mask.width, (y + 1) * mask.width)));
}

/**
 * Binary mask → compressed RLE.
 *
 * @example
 * encode(maskFromRows([[0, 1], [1, 1]])) // { size: [2, 2], counts: '13' } (column-major runs 1, 3)
 */
export function encode(mask: Mask): RLE {
  return toRLE(encodeRuns(mask));
}

/** Compressed or uncompressed RLE → binary mask (row-major). */
export function decode(rle: RLE | UncompressedRLE): Mask {
  return decodeRuns(checkRuns(fromRLE(rle)));
}

/** Foreground pixels of an RLE. */
export function area(rle: RLE | UncompressedRLE): number {
  return runsArea(fromRLE(rle));
}

/** [x, y, w, h] of an RLE's foreground, as float values like pycocotools. */
export function toBbox(rle: RLE | UncompressedRLE): Bbox {
  return runsToBbox(fromRLE(rle));
}

/** Union (default) or intersection of RLEs of one size. */
export function merge(rles: (RLE | UncompressedRLE)[], intersect = false): RLE {
  return toRLE(mergeRuns(rles.map(fromRLE), intersect));
}

/**
 * Polygons → one RLE per polygon (merge them for a multi-part object). As pycocotools, a polygon of n numbers
 * has ⌊n/2⌋ points (an odd last number is dropped) and is rasterised as it is: one of 2 points (4 numbers)
 * gives an empty mask. A polygon with fewer than 2 numbers has no point and is refused.
 */
export function frPoly(polygons: Polygon[], h: number, w: number): RLE[] {
  return polyRuns(polygons, h, w).map(toRLE);
}

function polyRuns(polygons: Polygon[], h: number, w: number): Runs[] {
  return polygons.map((p, i) => {
    if (!Array.isArray(p) || p.length < 2 || p.some((v) => typeof v !== 'number'))
      throw new MaskError(`polygon ${i} has ${Array.isArray(p) ? p.length : 0} coordinates; a polygon is a list of x, y numbers (at least one point)`);
    return polygonRuns(p, h, w);
  });
}

/** Boxes [x, y, w, h] → RLEs (rasterised as polygons, as pycocotools does). */
export function frBbox(boxes: Bbox[], h: number, w: number): RLE[] {
  return boxes.map((b) => toRLE(bboxRuns(b, h, w)));
}

/** Uncompressed RLEs (counts as run lengths) → compressed RLEs; checks that counts sum to h×w. */
export function frUncompressedRLE(rles: UncompressedRLE[]): RLE[] {
  return uncompressedRuns(rles).map(toRLE);
}

const uncompressedRuns = (rles: UncompressedRLE[]): Runs[] => rles.map((r, i) => checkRuns(fromRLE(r), `uncompressed RLE ${i}`));

type PyObject = Polygon[] | UncompressedRLE[] | UncompressedRLE | number[];

/**
 * pycocotools' `frPyObjects`: a list whose first entry has 4 numbers → boxes, one RLE each (`frBbox`: pycocotools
 * takes that path for an N×4 NumPy array; for a Python list 2.0.11 raises a TypeError, but JavaScript has no such
 * distinction, so the numbers are read as the array would be — every entry must then have 4 numbers); a list of
 * polygons (its first of more than 4 numbers) → one RLE each; a list of uncompressed RLEs → one RLE each; one
 * uncompressed RLE → one RLE. Refused with a clear line: a single flat list of numbers, a first polygon of fewer
 * than 4 numbers. (A COCO annotation's segmentation is a Python list in pycocotools, so `annToRLE` still refuses a
 * first part of 4 numbers, as 2.0.11 does.)
 */
export function frPyObjects(obj: PyObject, h: number, w: number): RLE | RLE[] {
  const r = frPyObjectsRuns(obj, h, w);
  return Array.isArray(r) ? r.map(toRLE) : toRLE(r);
}

/** `frPyObjects` before the string encoding: the same checks, the masks as runs (what evaluation uses). */
export function frPyObjectsRuns(obj: PyObject, h: number, w: number): Runs | Runs[] {
  switch (pyObjectKind(obj)) {
    case 'boxes':
      return (obj as Bbox[]).map((b) => bboxRuns(b, h, w));
    case 'polygons':
      return (obj as Polygon[]).map((p) => polygonRuns(p, h, w));
    case 'rles':
      return uncompressedRuns(obj as UncompressedRLE[]);
    default:
      return uncompressedRuns([obj as UncompressedRLE])[0];
  }
}

/**
 * What `frPyObjects` reads `obj` as — boxes, polygons, uncompressed RLEs or one uncompressed RLE — after every
 * check it makes on the structure (boxes and polygons in full; an RLE's counts are checked when it is read).
 */
export function pyObjectKind(obj: PyObject): 'boxes' | 'polygons' | 'rles' | 'rle' {
  if (Array.isArray(obj) && obj.length > 0 && Array.isArray(obj[0])) {
    const list = obj as number[][];
    if (list[0].length === 4) {
      const bad = list.findIndex((b) => !Array.isArray(b) || b.length !== 4 || b.some((v) => typeof v !== 'number'));
      if (bad >= 0)
        throw new MaskError(
          `frPyObjects: entry 0 is a box (4 numbers), so every entry must be one; entry ${bad} is not (an N×4 array, as pycocotools' box path)`,
        );
      return 'boxes';
    }
    if (list[0].length < 4) throw new MaskError(`frPyObjects: the first polygon has ${list[0].length} numbers; a polygon needs at least 3 points (6 numbers)`);
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      let ok = Array.isArray(p) && p.length >= 2;
      for (let j = 0; ok && j < p.length; j++) ok = typeof p[j] === 'number';
      if (!ok) throw new MaskError(`polygon ${i} has ${Array.isArray(p) ? p.length : 0} coordinates; a polygon is a list of x, y numbers (at least one point)`);
    }
    return 'polygons';
  }
  if (Array.isArray(obj) && obj.length > 0 && typeof obj[0] === 'number')
    throw new MaskError(
      'frPyObjects: a single flat list of numbers is not accepted (pycocotools 2.0.11 raises a TypeError for it); wrap a polygon in a list ([[x0, y0, x1, y1, ...]]) or pass boxes to frBbox',
    );
  if (Array.isArray(obj) && obj.length > 0 && typeof obj[0] === 'object') return 'rles';
  if (obj && !Array.isArray(obj) && typeof obj === 'object' && 'counts' in obj && 'size' in obj) return 'rle';
  throw new MaskError('segmentation is neither a polygon list nor an RLE {size, counts}');
}

const isBox = (o: unknown): o is Bbox => Array.isArray(o) && o.length === 4 && o.every((v) => typeof v === 'number');

/**
 * IoU matrix [D][G] between detections and ground truths, both boxes or both RLEs. For a crowd gt the
 * union is the detection's area. Mask pairs of different sizes give −1. Empty inputs give [].
 *
 * @example
 * iou([[0, 0, 10, 10]], [[0, 0, 20, 20]], [1]) // [[1]]: the box lies inside a crowd region
 */
export function iou(dt: (Bbox | RLE | UncompressedRLE)[], gt: (Bbox | RLE | UncompressedRLE)[], iscrowd: ArrayLike<number | boolean>): number[][] {
  if (dt.length === 0 || gt.length === 0) return [];
  if (iscrowd.length !== gt.length) throw new MaskError(`iscrowd has ${iscrowd.length} flags for ${gt.length} ground truths`);
  const boxes = isBox(dt[0]) && isBox(gt[0]);
  if (boxes) return bboxIou(dt as Bbox[], gt as Bbox[], iscrowd).map((r) => Array.from(r));
  if (isBox(dt[0]) || isBox(gt[0])) throw new MaskError('iou: detections and ground truths must both be boxes or both be RLEs');
  const toRuns = (o: Bbox | RLE | UncompressedRLE): Runs => fromRLE(o as RLE);
  return runsIou(dt.map(toRuns), gt.map(toRuns), iscrowd).map((r) => Array.from(r));
}
