/**
 * The COCO mask API, bit-compatible with pycocotools' `mask` (maskApi.c): run-length encoding in
 * column-major order starting with a run of zeros, the compressed `counts` string, polygon and box
 * rasterisation, merge, area, toBbox and IoU.
 */

/** A compressed RLE as COCO stores it: `counts` is pycocotools' 6-bits-per-char string. */
export interface RLE {
  size: [number, number]; // [h, w]
  counts: string;
}

/** An uncompressed RLE: `counts` lists the run lengths, zeros first. */
export interface UncompressedRLE {
  size: [number, number];
  counts: number[];
}

/** A binary mask, row-major (`data[y * width + x]`), values 0/1. */
export interface Mask {
  height: number;
  width: number;
  data: Uint8Array;
}

/** [x, y, w, h] */
export type Bbox = [number, number, number, number];

/** A polygon: [x0, y0, x1, y1, ...]. */
export type Polygon = number[];

/** Run lengths of a column-major mask (the internal form of maskApi.c's RLE). */
export interface Runs {
  h: number;
  w: number;
  cnts: Uint32Array;
}

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

/** Parses pycocotools' compressed counts string. */
export function runsFromString(s: string, h: number, w: number): Runs {
  const cnts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let f = 1; // 2^(5k): the place of the k-th 5-bit group
    let more = true;
    while (more) {
      if (p >= s.length) throw new MaskError(`RLE counts string ends in the middle of a number`);
      const c = s.charCodeAt(p) - 48;
      x += (c & 0x1f) * f;
      more = (c & 0x20) !== 0;
      p++;
      f *= 32;
      if (!more && c & 0x10) x -= f; // sign-extend
    }
    if (cnts.length > 2) x += cnts[cnts.length - 2];
    cnts.push(x >>> 0);
  }
  return { h, w, cnts: Uint32Array.from(cnts) };
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
  const { h, w } = r;
  const m = Math.floor(r.cnts.length / 2) * 2;
  if (m === 0) return [0, 0, 0, 0];
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

/** C's `(int)(v)`: truncation toward zero. */
const cInt = (v: number) => Math.trunc(v);

/** Rasterises one polygon exactly as maskApi.c's rleFrPoly (boundary upsampled ×5, same rounding). */
export function polygonRuns(xy: ArrayLike<number>, h: number, w: number): Runs {
  const k = Math.floor(xy.length / 2);
  const scale = 5;
  const x = new Array<number>(k + 1);
  const y = new Array<number>(k + 1);
  for (let j = 0; j < k; j++) x[j] = cInt(scale * xy[j * 2] + 0.5);
  x[k] = x[0];
  for (let j = 0; j < k; j++) y[j] = cInt(scale * xy[j * 2 + 1] + 0.5);
  y[k] = y[0];
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      [xs, xe] = [xe, xs];
      [ys, ye] = [ye, ys];
    }
    const s = dx >= dy ? (ye - ys) / dx : (xe - xs) / dy;
    if (dx >= dy) {
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + xs);
        v.push(cInt(ys + s * t + 0.5));
      }
    } else {
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + ys);
        u.push(cInt(xs + s * t + 0.5));
      }
    }
  }
  // Points along the y-boundary, downsampled.
  const bx: number[] = [];
  const by: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    let xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) continue;
    let yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    yd = Math.ceil(yd);
    bx.push(cInt(xd));
    by.push(cInt(yd));
  }
  // RLE from the boundary points.
  const a: number[] = bx.map((xv, j) => (xv * h + by[j]) >>> 0);
  a.push((h * w) >>> 0);
  a.sort((p, q) => p - q);
  let prev = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j];
    a[j] = (a[j] - prev) >>> 0;
    prev = t;
  }
  const b: number[] = [a[0]];
  let j = 1;
  while (j < a.length) {
    if (a[j] > 0) b.push(a[j++]);
    else {
      j++;
      if (j < a.length) b[b.length - 1] += a[j++];
    }
  }
  return { h, w, cnts: Uint32Array.from(b) };
}

/** Box → runs, through the polygon rasteriser (as pycocotools' rleFrBbox). */
export function bboxRuns([x, y, bw, bh]: Bbox, h: number, w: number): Runs {
  const xe = x + bw;
  const ye = y + bh;
  return polygonRuns([x, y, x, ye, xe, ye, xe, y], h, w);
}
