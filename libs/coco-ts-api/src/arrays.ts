/** Small array helpers of the evaluator. */

/**
 * Hands out zero-filled views of large shared buffers: evalImgs needs ~10⁶ small arrays on COCO-sized
 * sets, and a separate ArrayBuffer for each one costs more in allocation and GC than the matching itself.
 */
export class Arena<A extends Float64Array | Uint8Array> {
  private buf: A;
  private used = 0;
  constructor(
    private readonly make: (n: number) => A,
    private readonly chunk = 1 << 20,
  ) {
    this.buf = make(chunk);
  }
  take(n: number): A {
    if (n > this.chunk) return this.make(n);
    if (this.used + n > this.buf.length) {
      this.buf = this.make(this.chunk);
      this.used = 0;
    }
    const view = this.buf.subarray(this.used, this.used + n) as A;
    this.used += n;
    return view;
  }
}

/** Indices 0..n−1 sorted by key, ties kept in index order (Array.prototype.sort is stable, like numpy's mergesort). */
export const argsortStable = (n: number, key: (i: number) => number) => Array.from({ length: n }, (_, i) => i).sort((a, b) => key(a) - key(b)); // Array.prototype.sort is stable

/**
 * The indices 0..n−1 of `score[off …]` in descending score order, ties in index order (numpy's stable
 * `argsort(-score, kind='mergesort')`), into `out`: a natural merge sort — runs that are already descending
 * (one image's ranked detections) are merged pairwise, so n log(runs) comparisons, none through a callback.
 */
export function argsortDescStable(score: Float64Array, off: number, n: number, out: Int32Array, tmp: Int32Array): Int32Array {
  for (let j = 0; j < n; j++) out[j] = j;
  if (n < 2) return out;
  // Run boundaries: starts of maximal non-increasing stretches.
  const starts: number[] = [0];
  for (let j = 1; j < n; j++) if (score[off + j] > score[off + j - 1]) starts.push(j);
  starts.push(n);
  let src = out;
  let dst = tmp;
  let bounds = starts;
  while (bounds.length > 2) {
    const next: number[] = [0];
    for (let r = 0; r + 1 < bounds.length; r += 2) {
      const lo = bounds[r];
      const mid = bounds[r + 1];
      const hi = r + 2 < bounds.length ? bounds[r + 2] : mid;
      let i = lo;
      let j = mid;
      let o = lo;
      // Take from the right run only when strictly greater: equal scores keep their order (stable).
      while (i < mid && j < hi) dst[o++] = score[off + src[j]] > score[off + src[i]] ? src[j++] : src[i++];
      while (i < mid) dst[o++] = src[i++];
      while (j < hi) dst[o++] = src[j++];
      next.push(hi);
    }
    if (next[next.length - 1] !== n) next.push(n);
    [src, dst] = [dst, src];
    bounds = next;
  }
  if (src !== out) out.set(src.subarray(0, n));
  return out;
}
