import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { CocoDataset, CocoResult } from 'coco-ts-api';
import { plotConfusionMatrix } from '@cv/metrics';
import { MATCHING_DEFAULTS } from './defaults';
import type { DetectionError } from './matching';
import { matchDetections } from './matching';

const TILE = 128;

/**
 * A gallery PNG of the first `n` errors: each a crop around its box (half the box's size of margin on every
 * side, at least 24 px) scaled to 128×128, the box drawn, captioned with its kind, class and score.
 * `fileOf` gives the image file of an image id. Writes nothing when there are no errors; returns the count drawn.
 */
export async function writeErrorGallery(
  errors: DetectionError[],
  fileOf: (imageId: number) => string | undefined,
  nameOf: (categoryId: number) => string,
  out: string,
  { n = 24, columns = 6 } = {},
): Promise<number> {
  const picked = errors.filter((e) => fileOf(e.imageId) && fs.existsSync(fileOf(e.imageId)!)).slice(0, n);
  if (!picked.length) return 0;
  const tiles = await Promise.all(
    picked.map(async (e) => {
      const file = fileOf(e.imageId)!;
      const meta = await sharp(file).metadata();
      const [W, H] = [meta.width ?? 1, meta.height ?? 1];
      const [x, y, w, h] = e.bbox;
      const margin = Math.max(24, Math.max(w, h) / 2);
      const left = Math.max(0, Math.floor(x - margin));
      const top = Math.max(0, Math.floor(y - margin));
      const width = Math.max(1, Math.min(W, Math.ceil(x + w + margin)) - left);
      const height = Math.max(1, Math.min(H, Math.ceil(y + h + margin)) - top);
      const k = Math.min(TILE / width, (TILE - 16) / height);
      const crop = await sharp(file)
        .removeAlpha()
        .extract({ left, top, width, height })
        .resize(Math.max(1, Math.round(width * k)), Math.max(1, Math.round(height * k)), { kernel: 'nearest' })
        .png()
        .toBuffer();
      const colour = { background: '#ff3838', 'wrong class': '#ff37c7', missed: '#ffb21d', misread: '#ff37c7' }[e.kind];
      const score = e.score?.toFixed(2) ?? '';
      const label = {
        background: `${nameOf(e.categoryId)} ${score} (nothing)`,
        'wrong class': `${nameOf(e.categoryId)} ${score}, is ${nameOf(e.otherCategoryId!)}`,
        missed: `missed ${nameOf(e.categoryId)}`,
        misread: `${nameOf(e.categoryId)} as ${nameOf(e.otherCategoryId!)}`,
      }[e.kind];
      const esc = (t: string) => t.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
      const svg =
        `<svg xmlns="http://www.w3.org/2000/svg" width="${TILE}" height="${TILE}">` +
        `<rect x="${(x - left) * k}" y="${(y - top) * k}" width="${w * k}" height="${h * k}" fill="none" stroke="${colour}" stroke-width="2"/>` +
        `<text x="2" y="${TILE - 4}" font-family="sans-serif" font-size="11" fill="#fff">${esc(label)}</text></svg>`;
      return sharp({ create: { width: TILE, height: TILE, channels: 3, background: '#202020' } })
        .composite([{ input: crop, left: 0, top: 0 }, { input: Buffer.from(svg) }])
        .png()
        .toBuffer();
    }),
  );
  const rows = Math.ceil(tiles.length / columns);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  await sharp({ create: { width: Math.min(columns, tiles.length) * TILE, height: rows * TILE, channels: 3, background: '#000' } })
    .composite(tiles.map((t, i) => ({ input: t, left: (i % columns) * TILE, top: Math.floor(i / columns) * TILE })))
    .png()
    .toFile(out);
  return tiles.length;
}

/**
 * The error part of a detection report in `dir`: plots/confusion_matrix.{svg,png} (background row and
 * column) and the galleries plots/false_positives.png (highest-scored first) and plots/false_negatives.png
 * (largest first), from detections with score ≥ `conf`. `fileOf` gives an image id's file.
 */
export async function writeErrorReports(
  dir: string,
  gt: CocoDataset,
  results: CocoResult[],
  categoryIds: number[],
  fileOf: (imageId: number) => string | undefined,
  { conf = MATCHING_DEFAULTS.conf, iou = MATCHING_DEFAULTS.iou } = {},
): Promise<{ falsePositives: number; falseNegatives: number }> {
  const m = matchDetections(gt, results, categoryIds, { conf, iou });
  const names = new Map((gt.categories ?? []).map((c) => [c.id, String(c.name)]));
  const nameOf = (id: number) => names.get(id) ?? String(id);
  await plotConfusionMatrix(m.matrix, [...categoryIds.map(nameOf), 'background'], path.join(dir, 'plots', 'confusion_matrix'));
  for (const f of ['false_positives.png', 'false_negatives.png']) fs.rmSync(path.join(dir, 'plots', f), { force: true });
  await writeErrorGallery(m.falsePositives, fileOf, nameOf, path.join(dir, 'plots', 'false_positives.png'));
  await writeErrorGallery(m.falseNegatives, fileOf, nameOf, path.join(dir, 'plots', 'false_negatives.png'));
  return { falsePositives: m.falsePositives.length, falseNegatives: m.falseNegatives.length };
}
