/**
 * The COCO mask API, bit-compatible with pycocotools' `mask` (maskApi.c): run-length encoding in
 * column-major order starting with a run of zeros, the compressed `counts` string, polygon and box
 * rasterisation, merge, area, toBbox and IoU.
 */

import { commitCounts, countsBlock, reserveCounts } from './runs-block';

export type { Bbox, Mask, Polygon, RLE, Runs, UncompressedRLE } from './mask-types';
import type { Bbox, Mask, RLE, Runs, UncompressedRLE } from './mask-types';

/** A mask-API input that is not usable; names what is wrong. */
export class MaskError extends Error {
  override name = 'MaskError';
}

const umin = (a: number, b: number) => (a < b ? a : b);

/** Encodes a binary mask (row-major) into runs over its column-major order. */
export function encodeRuns(mask: Mask): Runs {
  const { height: h, width: w, data } = mask;
  if (data.length !== h * w) throw new MaskError(`mask data has ${data.length} values, expected ${h}×${w}`);
  const cnts: number[] = [];
  let p = 0;
  let c = 0;
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) {
      const v = data[y * w + x] ? 1 : 0;
      if (v !== p) {
        cnts.push(c);
        c = 0;
        p = v;
      }
      c++;
    }
  }
  cnts.push(c);
  return { h, w, cnts: Uint32Array.from(cnts) };
}

/** Decodes runs into a row-major binary mask. */
export function decodeRuns(r: Runs): Mask {
  const data = new Uint8Array(r.h * r.w);
  let k = 0;
  let v = 0;
  for (const run of r.cnts) {
    for (let j = 0; j < run; j++, k++) if (v) data[(k % r.h) * r.w + Math.floor(k / r.h)] = 1;
    v ^= 1;
  }
  return { height: r.h, width: r.w, data };
}

/** pycocotools' compressed counts: LEB128-like, 6 bits per char (ASCII 48..111), delta-coded from index 3. */
export function runsToString(r: Runs): string {
  let s = '';
  for (let i = 0; i < r.cnts.length; i++) {
    let x = r.cnts[i];
    if (i > 2) x -= r.cnts[i - 2];
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32; // x & 0x1f on a two's-complement long
      x = Math.floor(x / 32); // x >>= 5 (arithmetic)
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/**
 * Parses pycocotools' compressed counts string in one pass, into room for as many numbers as the string has
 * characters (each takes at least one) in the shared counts block; the rest of that room is given back.
 */
export function runsFromString(s: string, h: number, w: number): Runs {
  const L = s.length;
  if (L > 0 && (s.charCodeAt(L - 1) - 48) & 0x20) throw new MaskError(`RLE counts string ends in the middle of a number`);
  const o = reserveCounts(L);
  const cnts = countsBlock;
  let n = 0;
  let p = 0;
  while (p < L) {
    // Up to six 5-bit groups (30 bits) in int32 arithmetic; longer numbers in float arithmetic.
    let x = 0;
    let k = 0;
    let c = 0;
    do {
      c = s.charCodeAt(p++) - 48;
      x |= (c & 0x1f) << (5 * k);
      k++;
    } while (c & 0x20 && k < 6);
    if (c & 0x20) {
      let f = 1073741824; // 2^30
      for (;;) {
        c = s.charCodeAt(p++) - 48;
        x += (c & 0x1f) * f;
        f *= 32;
        if (c & 0x20) continue;
        if (c & 0x10) x -= f; // sign-extend
        break;
      }
    } else if (c & 0x10) x -= 1 << (5 * k); // sign-extend (k ≤ 6: at most 2^30)
    if (n > 2) x += cnts[o + n - 2];
    cnts[o + n++] = x >>> 0;
  }
  commitCounts(n);
  return { h, w, cnts: cnts.subarray(o, o + n) };
}

/** Throws unless the runs cover exactly h×w pixels. */
export function checkRuns(r: Runs, what = 'RLE'): Runs {
  let total = 0;
  for (const c of r.cnts) total += c;
  if (total !== r.h * r.w) throw new MaskError(`${what}: counts sum to ${total}, but size ${r.h}×${r.w} needs ${r.h * r.w}`);
  return r;
}

export function toRLE(r: Runs): RLE {
  return { size: [r.h, r.w], counts: runsToString(r) };
}

/** Internal runs from a compressed or uncompressed RLE object. */
export function fromRLE(rle: RLE | UncompressedRLE): Runs {
  if (!rle || !Array.isArray(rle.size) || rle.size.length !== 2) throw new MaskError(`an RLE needs size [h, w]`);
  const [h, w] = rle.size;
  if (typeof rle.counts === 'string') return runsFromString(rle.counts, h, w);
  if (Array.isArray(rle.counts)) return { h, w, cnts: Uint32Array.from(rle.counts) };
  throw new MaskError(`RLE counts must be a string or a list of run lengths`);
}

/** Area (foreground pixels) of runs: the sum of the odd-indexed runs. */
export function runsArea(r: Runs): number {
  let a = 0;
  for (let j = 1; j < r.cnts.length; j += 2) a += r.cnts[j];
  return a;
}

/**
 * Bounding box of runs, as pycocotools 2.0.x computes it (zero-length foreground runs are skipped; a run
 * that spans columns makes the box full height). Unsigned 32-bit arithmetic as in maskApi.c.
 */
export function runsToBbox(r: Runs): Bbox {
  const out = new Float64Array(4);
  runsBboxInto(r, out, 0);
  return [out[0], out[1], out[2], out[3]];
}

/** runsToBbox written to out[o … o + 3] (no array made per mask); returns the area (runsArea), summed on the way. */
export function runsBboxInto(r: Runs, out: Float64Array, o: number): number {
  const { h, w, cnts } = r;
  const m = Math.floor(cnts.length / 2) * 2;
  if (m === 0 || !(h > 0 && Number.isInteger(h))) {
    const b = m === 0 ? [0, 0, 0, 0] : runsToBboxDividing(r);
    for (let q = 0; q < 4; q++) out[o + q] = b[q];
    return runsArea(r);
  }
  let area = 0;
  // The same quantities as maskApi.c, with the column of a position tracked by stepping a column start
  // (positions only grow) instead of dividing at every run; runs taken as (background, foreground) pairs.
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let col = 0;
  let base = 0; // first position of column `col`
  for (let j = 1; j < m; j += 2) {
    cc += cnts[j - 1];
    const c = cnts[j];
    if (c === 0) continue;
    const start = cc;
    cc += c;
    area += c;
    while (start >= base + h) {
      base += h;
      col++;
    }
    const xStart = col;
    const yStart = start - base;
    const last = cc - 1;
    while (last >= base + h) {
      base += h;
      col++;
    }
    if (xStart < col) {
      ys = 0;
      ye = h - 1;
    } else {
      if (yStart < ys) ys = yStart;
      if (last - base > ye) ye = last - base;
    }
    if (xStart < xs) xs = xStart;
    if (col > xe) xe = col;
  }
  out[o] = xs;
  out[o + 1] = ys;
  out[o + 2] = (xe - xs + 1) >>> 0;
  out[o + 3] = (ye - ys + 1) >>> 0;
  return area;
}

/** runsToBbox by division at every run (maskApi.c's own arithmetic), for heights the stepping cannot take. */
function runsToBboxDividing(r: Runs): Bbox {
  const { h, w } = r;
  const m = Math.floor(r.cnts.length / 2) * 2;
  let xs = w;
  let ys = h;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  for (let j = 0; j < m; j++) {
    const start = cc;
    cc += r.cnts[j];
    if (j % 2 === 0 || r.cnts[j] === 0) continue;
    const yStart = start % h;
    const xStart = (start - yStart) / h;
    const yEnd = (cc - 1) % h;
    const xEnd = (cc - 1 - yEnd) / h;
    xs = umin(xs, xStart);
    xe = Math.max(xe, xEnd);
    if (xStart < xEnd) {
      ys = 0;
      ye = h - 1;
    } else {
      ys = umin(ys, yStart);
      ye = Math.max(ye, yEnd);
    }
  }
  return [xs, ys, (xe - xs + 1) >>> 0, (ye - ys + 1) >>> 0];
}

/**
 * Walks two run-length lists over the same pixels in lockstep, as maskApi.c's merge and IoU do:
 * `visit(c, va, vb)` receives each stretch of c pixels on which A's value is va and B's is vb.
 */
function walkRuns(A: ArrayLike<number>, B: ArrayLike<number>, visit: (c: number, va: number, vb: number) => void): void {
  let ca = A[0] ?? 0;
  let cb = B[0] ?? 0;
  let va = 0;
  let vb = 0;
  let a = 1;
  let b = 1;
  let ct = 1;
  while (ct > 0) {
    const c = umin(ca, cb);
    visit(c, va, vb);
    ct = 0;
    ca -= c;
    if (!ca && a < A.length) {
      ca = A[a++];
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < B.length) {
      cb = B[b++];
      vb ^= 1;
    }
    ct += cb;
  }
}

/** Union (or intersection) of runs of one size; sizes that differ give an empty 0×0 RLE, as pycocotools. */
export function mergeRuns(rs: Runs[], intersect = false): Runs {
  if (rs.length === 0) return { h: 0, w: 0, cnts: new Uint32Array(0) };
  let { h, w } = rs[0];
  if (rs.length === 1) return { h, w, cnts: rs[0].cnts.slice() };
  let cnts: number[] = Array.from(rs[0].cnts);
  for (let i = 1; i < rs.length; i++) {
    const B = rs[i];
    if (B.h !== h || B.w !== w) {
      h = w = 0;
      cnts = [];
      break;
    }
    // Runs of the union/intersection: a new run starts wherever the combined value changes.
    const out: number[] = [];
    let current = 0;
    let cc = 0;
    walkRuns(cnts, B.cnts, (c, va, vb) => {
      const v = intersect ? va & vb : va | vb;
      if (v !== current) {
        out.push(cc);
        cc = 0;
        current = v;
      }
      cc += c;
    });
    out.push(cc);
    cnts = out;
  }
  return { h, w, cnts: Uint32Array.from(cnts) };
}

export { bboxRuns, polygonRuns } from './rasterize';
export { countsMark, countsRelease } from './runs-block';
