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
  countsUsed += n;
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

/** C's `(int)(v)`: truncation toward zero. */
const cInt = (v: number) => Math.trunc(v);

let sortTmp = new Uint32Array(4096);
let vertexScratch = new Float64Array(256);

/**
 * Run lengths live in views of a large shared block (a separate ArrayBuffer per mask costs ~1 µs to allocate
 * and register, more than reading a small mask). Blocks are freed when no view of them is left.
 */
let countsBlock = new Uint32Array(0);
let countsUsed = 0;
/**
 * Room for up to n run lengths at the end of the shared block (a fresh block when they do not fit): its offset in
 * `countsBlock`. The caller writes its runs there and keeps what it used (`countsUsed += used`).
 */
function reserveCounts(n: number): number {
  if (n > 1 << 16 || countsUsed + n > countsBlock.length) {
    countsBlock = new Uint32Array(Math.max(n, 1 << 20));
    countsUsed = 0;
  }
  return countsUsed;
}

/** Where the shared counts block stands: runs made after a mark can be given back with `countsRelease`. */
export function countsMark(): { block: Uint32Array; used: number } {
  return { block: countsBlock, used: countsUsed };
}

/** Gives back the room of every run made since `mark` (their views must not be used again). */
export function countsRelease(mark: { block: Uint32Array; used: number }): void {
  if (mark.block === countsBlock) countsUsed = mark.used;
}

/**
 * a[0..n) in ascending order (returned as a view of `a`): a natural merge sort. A polygon's boundary points
 * come as a few monotone stretches (up one side, down the other), so this is about linear where
 * TypedArray.prototype.sort, which compares through a generic path, costs ~20 ns per comparison.
 */
function sortRuns(a: Uint32Array<ArrayBuffer>, n: number): Uint32Array<ArrayBuffer> {
  if (sortTmp.length < n) sortTmp = new Uint32Array(Math.max(n, 2 * sortTmp.length));
  // Runs: maximal non-decreasing or strictly decreasing stretches, the latter reversed in place.
  const bounds: number[] = [0];
  let i = 0;
  while (i < n) {
    let j = i + 1;
    if (j < n && a[j] < a[i]) {
      while (j + 1 < n && a[j + 1] < a[j]) j++;
      j++;
      for (let l = i, r = j - 1; l < r; l++, r--) {
        const t = a[l];
        a[l] = a[r];
        a[r] = t;
      }
    } else {
      while (j < n && a[j] >= a[j - 1]) j++;
    }
    bounds.push(j);
    i = j;
  }
  let src = a;
  let dst = sortTmp;
  let runs = bounds;
  while (runs.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < runs.length; r += 2) {
      const lo = runs[r];
      const mid = runs[r + 1];
      const hi = r + 2 < runs.length ? runs[r + 2] : mid;
      let x = lo;
      let y = mid;
      let o = lo;
      while (x < mid && y < hi) dst[o++] = src[y] < src[x] ? src[y++] : src[x++];
      while (x < mid) dst[o++] = src[x++];
      while (y < hi) dst[o++] = src[y++];
      next.push(hi);
    }
    const t = src;
    src = dst;
    dst = t;
    runs = next;
  }
  if (src !== a) a.set(src.subarray(0, n));
  return a.subarray(0, n);
}

/** Boundary points of `polygonRuns`, reused from call to call (a fresh buffer per polygon costs more). */
let polyScratch = new Uint32Array(4096);

/**
 * One boundary point of rleFrPoly: u stepped from pu to uj (upsampled); where the downsampled x is a whole
 * column inside the image, the column-major index of (x, ⌈y⌉) goes to a[na]. Returns the new count.
 */
function boundaryPoint(uj: number, vj: number, pu: number, pv: number, h: number, w: number, a: Uint32Array, na: number): number {
  let xd = uj < pu ? uj : uj - 1;
  xd = (xd + 0.5) / 5 - 0.5;
  if (Math.floor(xd) !== xd || xd < 0 || xd > w - 1) return na;
  let yd = vj < pv ? vj : pv;
  yd = (yd + 0.5) / 5 - 0.5;
  if (yd < 0) yd = 0;
  else if (yd > h) yd = h;
  yd = Math.ceil(yd);
  a[na] = cInt(xd) * h + cInt(yd); // stored mod 2³², as maskApi.c's uint
  return na + 1;
}

/** boundaryPoint where the step is known to land on column xd (a whole number): (xd, ⌈y⌉) for y the lower v. */
function columnPoint(xd: number, v: number, h: number, w: number, a: Uint32Array, na: number): number {
  if (xd < 0 || xd > w - 1) return na;
  let yd = (v + 0.5) / 5 - 0.5;
  if (yd < 0) yd = 0;
  else if (yd > h) yd = h;
  yd = Math.ceil(yd);
  a[na] = xd * h + cInt(yd); // stored mod 2³², as maskApi.c's uint
  return na + 1;
}

/** Rasterises one polygon exactly as maskApi.c's rleFrPoly (boundary upsampled ×5, same rounding). */
export function polygonRuns(xy: ArrayLike<number>, h: number, w: number): Runs {
  const k = Math.floor(xy.length / 2);
  const scale = 5;
  if (vertexScratch.length < 2 * (k + 1)) vertexScratch = new Float64Array(Math.max(2 * (k + 1), 2 * vertexScratch.length));
  const x = vertexScratch.subarray(0, k + 1);
  const y = vertexScratch.subarray(k + 1, 2 * (k + 1));
  for (let j = 0; j < k; j++) x[j] = cInt(scale * xy[j * 2] + 0.5);
  x[k] = x[0];
  for (let j = 0; j < k; j++) y[j] = cInt(scale * xy[j * 2 + 1] + 0.5);
  y[k] = y[0];
  // maskApi.c walks the boundary upsampled ×5 (every point of every edge, u = x, v = y) and keeps, where u
  // steps from the previous point, the points whose downsampled x is a whole pixel column. No point lists here:
  // on a shallow edge u steps at every point, and only every fifth step can land on a column (the stepped-from
  // u ≡ 2 mod 5), so those points are visited directly; a steep edge is walked point by point.
  let m = 0;
  for (let j = 0; j < k; j++) {
    const dx = Math.abs(x[j + 1] - x[j]);
    const dy = Math.abs(y[j] - y[j + 1]);
    const n = dx < dy ? dy : dx;
    if (n >= 0) m += n + 1; // (no point on an edge with a NaN end)
  }
  if (polyScratch.length < m + 1) polyScratch = new Uint32Array(Math.max(m + 1, 2 * polyScratch.length));
  const a = polyScratch;
  let na = 0;
  let started = false;
  let pu = 0;
  let pv = 0;
  for (let j = 0; j < k; j++) {
    let xs = x[j];
    let xe = x[j + 1];
    let ys = y[j];
    let ye = y[j + 1];
    const dx = Math.abs(xe - xs);
    const dy = Math.abs(ys - ye);
    const flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      let t = xs;
      xs = xe;
      xe = t;
      t = ys;
      ys = ye;
      ye = t;
    }
    if (dx < dy) {
      // Steep: u = trunc(xs + s·t + 0.5) with |s| < 1, monotone in t, stepping by at most 1. Only the steps
      // between columns U and U + 1 with U ≡ 2 mod 5 can land on a pixel column: each is found from its
      // estimated t and settled by evaluating u itself (monotone, so the local search is exact).
      const n = dy;
      const s = (xe - xs) / dy;
      const t0 = flip ? n : 0;
      const u0 = cInt(xs + s * t0 + 0.5);
      if (started && u0 !== pu) na = boundaryPoint(u0, t0 + ys, pu, pv, h, w, a, na);
      started = true;
      const uA = cInt(xs + 0.5);
      const uB = cInt(xs + s * n + 0.5);
      const lo = uA < uB ? uA : uB;
      const hi = uA < uB ? uB : uA;
      let U = Math.max(lo, 2);
      U += (((2 - U) % 5) + 5) % 5;
      const last = Math.min(hi - 1, 5 * (w - 1) + 2);
      const rising = s > 0;
      for (; U <= last; U += 5) {
        // tB: the first t past the step (u ≥ U + 1 when u rises with t, u ≤ U when it falls).
        let tB = Math.min(n, Math.max(1, Math.ceil((U + 0.5 - xs) / s)));
        while (tB > 1) {
          const v = cInt(xs + s * (tB - 1) + 0.5);
          if (rising ? v >= U + 1 : v <= U) tB--;
          else break;
        }
        while (tB < n) {
          const v = cInt(xs + s * tB + 0.5);
          if (rising ? v >= U + 1 : v <= U) break;
          tB++;
        }
        const tA = tB - 1;
        const cur = flip ? tA : tB;
        const prev = flip ? tB : tA;
        na = columnPoint((U - 2) / 5, Math.min(cur, prev) + ys, h, w, a, na); // (v = t + ys: the lower t has the lower v)
      }
      const tl = flip ? 0 : n;
      pu = cInt(xs + s * tl + 0.5);
      pv = tl + ys;
    } else if (dx >= 0) {
      const n = dx;
      const s = (ye - ys) / dx;
      // d = 0 follows the previous edge's last point.
      const t0 = flip ? n : 0;
      const u0 = t0 + xs;
      const v0 = cInt(ys + s * t0 + 0.5);
      if (started && u0 !== pu) na = boundaryPoint(u0, v0, pu, pv, h, w, a, na);
      started = true;
      // d ≥ 1: u = xs + t steps by +1 (flip: −1); the stepped-from column is xs + d − 1 (flip: xs + n − d).
      const r = (((flip ? xs + n - 2 : 3 - xs) % 5) + 5) % 5;
      for (let d = r === 0 ? 5 : r; d <= n; d += 5) {
        const t = flip ? n - d : d;
        const tp = flip ? t + 1 : t - 1;
        const vj = cInt(ys + s * t + 0.5);
        const vp = cInt(ys + s * tp + 0.5);
        na = columnPoint(((flip ? t : tp) + xs - 2) / 5, vj < vp ? vj : vp, h, w, a, na); // the stepped-from (flip: to) column
      }
      const tl = flip ? 0 : n;
      pu = tl + xs;
      pv = cInt(ys + s * tl + 0.5);
    }
  }
  a[na++] = h * w;
  const sorted = sortRuns(a, na);
  // RLE from the sorted boundary points: their differences, a zero-length run folded into the next one.
  const o = reserveCounts(na);
  const b = countsBlock;
  let nb = 1;
  b[o] = sorted[0];
  let j = 1;
  while (j < na) {
    const dj = sorted[j] - sorted[j - 1];
    j++;
    if (dj > 0) b[o + nb++] = dj;
    else if (j < na) {
      b[o + nb - 1] += sorted[j] - sorted[j - 1];
      j++;
    }
  }
  countsUsed += nb;
  return { h, w, cnts: b.subarray(o, o + nb) };
}

/** Box → runs, through the polygon rasteriser (as pycocotools' rleFrBbox). */
export function bboxRuns([x, y, bw, bh]: Bbox, h: number, w: number): Runs {
  const xe = x + bw;
  const ye = y + bh;
  return polygonRuns([x, y, x, ye, xe, ye, xe, y], h, w);
}
