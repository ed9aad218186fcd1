/** Segmentation over image files: the truth of `segment:val`, the files of `segment:predict`. */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type DecodedImage } from '@cv/engine';
import { z } from 'zod';
import { type ClassMask, maskPairs } from './data';
import { maskPng, overlayPng } from './overlay';
import type { SegmentationPredictor, SegmentationResult, SegmentOptions } from './predictor';

/** The inference-mode keys of `segment:val` and `segment:predict`. */
export const segmentModeKeys = {
  mode: z
    .enum(['resize', 'whole', 'tiles'])
    .default('resize')
    .describe('resize: letterboxed to the training size; whole: at its own size; tiles: overlapping tiles'),
  tile: z.number().int().positive().optional().describe('tile side in pixels (tiles mode; default the training size)'),
  overlap: z.number().int().min(0).optional().describe('tile overlap in pixels (default a quarter tile)'),
};
export const segmentOptions = (cfg: { mode: SegmentOptions['mode']; tile?: number; overlap?: number }): SegmentOptions => ({
  mode: cfg.mode,
  tile: cfg.tile,
  overlap: cfg.overlap,
});

export type TruthItems = { file: string; truth: () => ClassMask }[];

/**
 * Image files and their truth at the images' own sizes (mask PNGs by file name, or COCO polygons / RLE), read as
 * each image is scored; every mask value is checked against the model's classes first.
 */
export function truthItems(cfg: { images?: string; masks?: string; data?: string }, classNames: string[]): TruthItems {
  if (!cfg.images || !(cfg.masks || cfg.data)) throw new ConfigError('segment:val needs --images <dir> and --masks <dir> (or --data <coco json>)');
  const src = cfg.masks ? { images: cfg.images, masks: cfg.masks } : { data: cfg.data!, images: cfg.images };
  const items = maskPairs(src).pairs.map((p) => ({ file: p.image, truth: p.mask }));
  for (const it of items) {
    const t = it.truth();
    const bad = t.data.findIndex((v) => v >= classNames.length && v !== 255);
    if (bad >= 0) {
      const classes = `0..${classNames.length - 1} (${classNames.join(', ')})`;
      throw new ConfigError(`mask of '${it.file}' has value ${t.data[bad]}, but the model's classes are ${classes}; fix the mask`);
    }
  }
  return items;
}

/** `segment:predict`'s files of one image: masks/<name>.png (class per pixel) and overlays/<name>.png. */
export async function writeMaskFiles(dir: string, file: string, image: DecodedImage, r: SegmentationResult, p: SegmentationPredictor, alpha: number) {
  const name = `${path.parse(file).name}.png`;
  fs.writeFileSync(path.join(dir, 'masks', name), await maskPng(r.mask, r.width, r.height));
  fs.writeFileSync(path.join(dir, 'overlays', name), await overlayPng(image, r.mask, p.metadata.classNames, { alpha, colours: p.metadata.colours }));
}
