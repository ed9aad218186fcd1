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
