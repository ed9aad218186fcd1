import { COCO, type CocoDataset, type CocoResult, COCOeval, encode, type ExtendedMetrics, extendedMetrics, type RLE, toBbox } from 'coco-ts-api';

/** One connected region of a class in a class mask. */
export interface Instance {
  classIndex: number;
  rle: RLE;
  area: number;
  /** Mean confidence over its pixels (1 without a confidence map). */
  score: number;
}

/**
 * Instances of a class mask: the 8-connected components of each class other than background (0) and
 * `ignore`, each as a COCO RLE (coco-ts-api's `encode`) with its area and mean confidence.
 *
 * @example
 * const objects = instancesOf(mask, 160, 160); // [{ classIndex: 2, rle, area: 412, score: 1 }, ...]
 */
export function instancesOf(mask: Uint8Array, width: number, height: number, confidence?: Float32Array, { ignore = 255, minArea = 1 } = {}): Instance[] {
  const seen = new Uint8Array(mask.length);
  const queue = new Int32Array(mask.length);
  const out: Instance[] = [];
  for (let start = 0; start < mask.length; start++) {
    const cls = mask[start];
    if (seen[start] || cls === 0 || cls === ignore) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = start;
    seen[start] = 1;
    let score = 0;
    while (head < tail) {
      const i = queue[head++];
      score += confidence ? confidence[i] : 1;
      const x = i % width;
      const y = (i - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const j = ny * width + nx;
          if (!seen[j] && mask[j] === cls) {
            seen[j] = 1;
            queue[tail++] = j;
          }
        }
      }
    }
    if (tail < minArea) continue;
    const data = new Uint8Array(mask.length);
    for (let k = 0; k < tail; k++) data[queue[k]] = 1;
    out.push({ classIndex: cls, rle: encode({ height, width, data }), area: tail, score: score / tail });
  }
  return out;
}

/**
 * Mask AP (COCOeval `segm`, through coco-ts-api) of predicted against true class masks, both turned into
 * instances by `instancesOf`: the 12 COCO stats and their printed lines. `categoryOf` maps a class index to a
 * category id (default the index).
 */
export function maskAp(
  images: { truth: Uint8Array; pred: Uint8Array; confidence?: Float32Array; width: number; height: number }[],
  classNames: string[],
): MaskApResult {
  const E = maskApEval(images, classNames);
  E.evaluate();
  return summarizeMaskAp(E, classNames);
}

/**
 * The COCOeval (segm) of connected components: image `firstId + i` for `images[i]` (a shard of a queued
 * `segment:val` passes its global offset, so the merged shards are the one evaluation).
 */
export function maskApEval(
  images: { truth: Uint8Array; pred: Uint8Array; confidence?: Float32Array; width: number; height: number }[],
  classNames: string[],
  firstId = 1,
): COCOeval {
  const gt: CocoDataset = {
    images: images.map((im, i) => ({ id: firstId + i, width: im.width, height: im.height })),
    annotations: [],
    categories: classNames.slice(1).map((name, i) => ({ id: i + 1, name })),
  };
  const results: CocoResult[] = [];
  images.forEach((im, i) => {
    for (const o of instancesOf(im.truth, im.width, im.height))
      gt.annotations!.push({
        id: gt.annotations!.length + 1,
        image_id: firstId + i,
        category_id: o.classIndex,
        segmentation: o.rle,
        area: o.area,
        bbox: toBbox(o.rle),
        iscrowd: 0,
      });
    for (const o of instancesOf(im.pred, im.width, im.height, im.confidence))
      results.push({ image_id: firstId + i, category_id: o.classIndex, segmentation: o.rle, score: o.score });
  });
  const coco = new COCO(gt);
  return new COCOeval(coco, coco.loadRes(results), 'segm');
}

/** Mask AP's 12 stats and lines, with coco-ts-api's extended analysis (F1 at the best confidence, error breakdown). */
export interface MaskApResult {
  stats: number[];
  lines: string[];
  extended: ExtendedMetrics;
}

/** Accumulate, the 12 stats and the extended analysis of an evaluated (or merged: no error breakdown) mask-AP COCOeval. */
export function summarizeMaskAp(E: COCOeval, classNames: string[]): MaskApResult {
  E.accumulate();
  const lines: string[] = [];
  const stats = E.summarize((l) => lines.push(l));
  // Category i is class i (background, 0, has none); a merged COCOeval has no categories of its own.
  return { stats, lines, extended: extendedMetrics(E, { names: new Map(classNames.map((n, i) => [i, n])) }) };
}
