/**
 * maskApi.c's polygon rasteriser (rleFrPoly) and box rasteriser, bit for bit: the boundary upsampled ×5, the
 * points where it steps onto a pixel column, sorted, turned into runs.
 */
import type { Bbox, Runs } from './mask-types';
import { commitCounts, countsBlock, reserveCounts } from './runs-block';

/** C's `(int)(v)`: truncation toward zero. */
const cInt = (v: number) => Math.trunc(v);

let sortTmp = new Uint32Array(4096);
let vertexScratch = new Float64Array(256);

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
  commitCounts(nb);
  return { h, w, cnts: b.subarray(o, o + nb) };
}

/** Box → runs, through the polygon rasteriser (as pycocotools' rleFrBbox). */
export function bboxRuns([x, y, bw, bh]: Bbox, h: number, w: number): Runs {
  const xe = x + bw;
  const ye = y + bh;
  return polygonRuns([x, y, x, ye, xe, ye, xe, y], h, w);
}
