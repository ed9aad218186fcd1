/** The data types of the mask API (shared by mask.ts and rasterize.ts). */
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
