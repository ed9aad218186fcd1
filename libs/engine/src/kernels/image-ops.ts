/**
 * Native byte-level image augmentation, set by the oneDNN kernels' registration (Node, `native/image.cc`) and
 * read by `@cv/data`'s transforms and `collate`: each op writes the same bytes (or floats) as the JavaScript loop
 * it replaces, several times faster. Null in the browser, in data worker threads and without the addon: the
 * JavaScript loops run. Browser-safe (no Node imports).
 */
export interface NativeImageOps {
  /** RandomAffine's warp: p = [h, w, c, m00, m01, m10, m11, cx, cy, tx, ty, fill, ignore] (inverse map of pixel centres). */
  warpAffine(src: Uint8Array, dst: Uint8Array, srcMask: Uint8Array | null, dstMask: Uint8Array | null, p: Float64Array): boolean;
  /** dst = src mirrored left–right (c channels). */
  flipX(src: Uint8Array, dst: Uint8Array, h: number, w: number, c: number): boolean;
  /** HsvJitter's map of RGB bytes: p = [hue shift in sextants, saturation gain, value gain]. */
  hsvJitter(src: Uint8Array, dst: Uint8Array, p: Float64Array): boolean;
  /** dst[at + i] = bytes[i] / 255 (as JavaScript rounds the quotient to float32). */
  bytesToUnit(dst: Float32Array, at: number, bytes: Uint8Array): boolean;
}

let ops: NativeImageOps | null = null;

/** Installs (or, with null, removes) the native image ops. */
export function setNativeImageOps(next: NativeImageOps | null): void {
  ops = next;
}

/** The native image ops where installed, else null. */
export function nativeImageOps(): NativeImageOps | null {
  return ops;
}
