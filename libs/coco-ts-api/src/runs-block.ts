/**
 * The shared block that run lengths (masks read by the evaluator, the rasteriser, the RLE string reader) live in
 * as views.
 */
/**
 * Run lengths live in views of a large shared block (a separate ArrayBuffer per mask costs ~1 µs to allocate
 * and register, more than reading a small mask). Blocks are freed when no view of them is left.
 */
export let countsBlock = new Uint32Array(0);
let countsUsed = 0;
/**
 * Room for up to n run lengths at the end of the shared block (a fresh block when they do not fit): its offset in
 * `countsBlock`. The caller writes its runs there and keeps what it used (`commitCounts(used)`).
 */
export function reserveCounts(n: number): number {
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

/** Keeps the first n of the room `reserveCounts` gave (the rest goes to the next caller). */
export function commitCounts(n: number): void {
  countsUsed += n;
}
