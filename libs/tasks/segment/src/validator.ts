import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '@cv/data';
import { type EpochValidator, type Logs, unitRange, writeFileAtomic } from '@cv/engine';
import { plotConfusionMatrix, renderVegaLite, SegmentationConfusion, segmentationMetrics, type SegmentationMetrics } from '@cv/metrics';
import type { ClassMask } from './data';
import { maskAp, maskApEval, type MaskApResult, summarizeMaskAp } from './instances';
import { evaluateShard, extendedMarkdown, mergeShards, parseShard, serializeShard } from 'coco-ts-api';
import { IGNORE } from './losses';
import { overlayPng } from './overlay';
import type { SegmentationPredictor, SegmentOptions } from './predictor';
import type { SegmentationSet } from './data';

export interface SegmentationEvaluation extends SegmentationMetrics {
  classNames: string[];
  /** [truth][predicted] pixel counts. */
  matrix: number[][];
  /** Per image: its file and mIoU over the object classes in its truth or prediction (null when neither has any). */
  perImage: { file: string; miou: number | null }[];
  /** Mask AP (COCOeval segm on connected components); absent when turned off. */
  maskAp?: MaskApResult;
  images: number;
}

/**
 * Scores a segmenter on image files with their true masks, at each image's own size, through the same
 * Predictor as `segment:predict` (so its mIoU is the one the written mask PNGs give): one dataset-level
 * confusion matrix, per-image mIoU, and mask AP of the connected components.
 */
export async function evaluateSegmenter(
  predictor: SegmentationPredictor,
  items: { file: string; truth: () => ClassMask }[],
  { options = {}, withMaskAp = true, onProgress }: { options?: SegmentOptions; withMaskAp?: boolean; onProgress?: (done: number) => void } = {},
): Promise<SegmentationEvaluation> {
  const names = predictor.metadata.classNames;
  const s = await scoreImages(predictor, items, options, withMaskAp, onProgress);
  return assemble(names, s.cm, s.perImage, withMaskAp && names.length > 1 ? maskAp(s.forAp, names) : undefined);
}

type Item = { file: string; truth: () => ClassMask };

/** The Predictor over image files against their truth: the summed confusion, per-image mIoU, what mask AP needs. */
async function scoreImages(predictor: SegmentationPredictor, items: Item[], options: SegmentOptions, withMaskAp: boolean, onProgress?: (done: number) => void) {
  const k = predictor.metadata.classNames.length;
  const cm = new SegmentationConfusion(k, IGNORE);
  const perImage: SegmentationEvaluation['perImage'] = [];
  const forAp: Parameters<typeof maskAp>[0] = [];
  for (let i = 0; i < items.length; i++) {
    const { file } = items[i];
    const img = await decodeImage(file);
    const truth = items[i].truth();
    if (truth.width !== img.width || truth.height !== img.height)
      throw new Error(`mask of '${file}' is ${truth.width}×${truth.height}, the image ${img.width}×${img.height}; masks must match their images`);
    const [r] = await predictor.predictAsync([img], options);
    const one = new SegmentationConfusion(k, IGNORE).add(truth.data, r.mask, `mask of '${file}'`);
    cm.merge(one);
    const m = segmentationMetrics(one);
    perImage.push({ file, miou: Number.isNaN(m.miou) ? null : m.miou });
    if (withMaskAp) forAp.push({ truth: truth.data, pred: r.mask, confidence: r.confidence, width: img.width, height: img.height });
    onProgress?.(i + 1);
  }
  return { cm, perImage, forAp };
}

function assemble(
  names: string[],
  cm: SegmentationConfusion,
  perImage: SegmentationEvaluation['perImage'],
  ap: SegmentationEvaluation['maskAp'],
): SegmentationEvaluation {
  return { ...segmentationMetrics(cm), classNames: names, matrix: cm.matrix(), perImage, maskAp: ap, images: perImage.length };
}

/** One shard of a queued `segment:val`: its images' confusion counts, per-image mIoU and mask-AP shard (coco-ts-api). */
export interface SegmentationShardPart {
  counts: number[];
  perImage: SegmentationEvaluation['perImage'];
  maskAp?: string;
}

/** The part of the consecutive items `indices` (their mask-AP image ids are their global positions + 1). */
export async function evaluateSegmenterShard(
  predictor: SegmentationPredictor,
  items: Item[],
  indices: number[],
  { options = {}, withMaskAp = true }: { options?: SegmentOptions; withMaskAp?: boolean } = {},
): Promise<SegmentationShardPart> {
  const names = predictor.metadata.classNames;
  const s = await scoreImages(
    predictor,
    indices.map((i) => items[i]),
    options,
    withMaskAp,
  );
  const ap =
    withMaskAp && names.length > 1
      ? evaluateShard(
          maskApEval(s.forAp, names, indices[0] + 1),
          indices.map((i) => i + 1),
        )
      : null;
  return { counts: Array.from(s.cm.counts), perImage: s.perImage, ...(ap ? { maskAp: serializeShard(ap) } : {}) };
}

/** Every shard's part merged: the evaluation `evaluateSegmenter` gives over all the items, bit for bit. */
export function mergeSegmenterShards(parts: SegmentationShardPart[], names: string[]): SegmentationEvaluation {
  const cm = new SegmentationConfusion(names.length, IGNORE);
  for (const p of parts) p.counts.forEach((v, i) => (cm.counts[i] += v));
  const ap = parts.every((p) => p.maskAp) && parts.length ? summarizeMaskAp(mergeShards(parts.map((p) => parseShard(p.maskAp!))), names) : undefined;
  return assemble(
    names,
    cm,
    parts.flatMap((p) => p.perImage),
    ap,
  );
}

/** mIoU etc. of a model's argmax on an in-memory (letterboxed) set; padding is ignored. */
export async function quickMetrics(model: tf.LayersModel, set: SegmentationSet, batchSize = 16): Promise<SegmentationMetrics> {
  const cm = new SegmentationConfusion(set.classNames.length, IGNORE);
  for (let i = 0; i < set.length; i += batchSize) {
    const samples = Array.from({ length: Math.min(batchSize, set.length - i) }, (_, j) => set.get(i + j));
    const [h, w, c] = samples[0].shape;
    const flat = new Float32Array(samples.length * h * w * c);
    samples.forEach((s, j) => flat.set(unitRange(s.image), j * h * w * c));
    // tidy returns the tensor, not its data: tidy walks a returned typed array element by element.
    const predT = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(flat, [samples.length, h, w, c])) as tf.Tensor4D, -1));
    const pred = await predT.data(); // asynchronous: a GPU backend has no synchronous read in Node
    predT.dispose();
    samples.forEach((s, j) => cm.add(s.mask!, pred.subarray(j * h * w, (j + 1) * h * w)));
  }
  return segmentationMetrics(cm);
}

/** Per-epoch validation of the job: mIoU (object classes), mIoU with background and pixel accuracy (the EMA model when on). */
export class SegmentationValidator implements EpochValidator {
  constructor(readonly set: SegmentationSet) {}

  async validate(models: Record<string, tf.LayersModel>): Promise<Logs> {
    const m = await quickMetrics(models.model, this.set);
    return { val_miou: m.miou, val_miou_all: m.miouAll, val_pixel_acc: m.pixelAccuracy };
  }
}

/** The JSON `segment:val --json` writes (and report.json holds): names as keys, null for absent classes. */
export function evaluationJson(r: SegmentationEvaluation): Record<string, unknown> {
  const byName = (v: (number | null)[]) => Object.fromEntries(r.classNames.map((n, i) => [n, v[i]]));
  return {
    miou: r.miou,
    miouAll: r.miouAll,
    perClassIou: byName(r.perClassIou),
    pixelAccuracy: r.pixelAccuracy,
    dice: byName(r.dice),
    meanDice: r.meanDice,
    maskAp: r.maskAp?.stats,
    // Without the error breakdown, which a queued run's merged mask AP cannot read (report.md has it).
    maskApExtended: r.maskAp && { ...r.maskAp.extended, errors: undefined },
    confusion: r.matrix,
    images: r.images,
  };
}

/**
 * report.json, report.md and plots/ of an evaluation in `dir`: per-class IoU bars, the row-normalised
 * confusion matrix, and a gallery of the worst images (image | truth | prediction overlays).
 */
export async function writeSegmentationReport(
  dir: string,
  r: SegmentationEvaluation,
  info: Record<string, unknown>,
  {
    predictor,
    truthOf,
    options = {},
    worst = 8,
  }: { predictor?: SegmentationPredictor; truthOf?: (file: string) => ClassMask; options?: SegmentOptions; worst?: number } = {},
): Promise<void> {
  fs.mkdirSync(path.join(dir, 'plots'), { recursive: true });
  writeFileAtomic(
    path.join(dir, 'report.json'),
    JSON.stringify({ ...info, ...evaluationJson(r), perImage: r.perImage, date: new Date().toISOString() }, null, 2) + '\n',
  );
  const bars = r.classNames.map((name, i) => ({ class: name, iou: r.perClassIou[i] ?? 0 }));
  await renderVegaLite(
    {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `IoU per class (mIoU ${r.miou.toFixed(3)} without background)`,
      width: Math.max(200, 50 * r.classNames.length),
      height: 220,
      data: { values: bars },
      mark: 'bar',
      encoding: {
        x: { field: 'class', type: 'nominal', sort: r.classNames },
        y: { field: 'iou', type: 'quantitative', scale: { domain: [0, 1] } },
      },
    },
    path.join(dir, 'plots', 'per_class_iou'),
  );
  const normalised = r.matrix.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s ? +(v / s).toFixed(3) : 0));
  });
  await plotConfusionMatrix(normalised, r.classNames, path.join(dir, 'plots', 'confusion_matrix'));
  const gallery = path.join(dir, 'plots', 'worst_images.png');
  fs.rmSync(gallery, { force: true });
  if (predictor && truthOf) {
    const ranked = r.perImage.filter((p) => p.miou !== null).sort((a, b) => a.miou! - b.miou!);
    const rows: Buffer[] = [];
    for (const p of ranked.slice(0, worst)) {
      const img = await decodeImage(p.file);
      const [pred] = await predictor.predictAsync([img], options);
      const truth = truthOf(p.file);
      const tiles = [
        await overlayPng(img, new Uint8Array(img.width * img.height), r.classNames, { legend: false }),
        await overlayPng(img, truth.data, r.classNames),
        await overlayPng(img, pred.mask, r.classNames),
      ];
      const metas = await Promise.all(tiles.map((t) => sharp(t).metadata()));
      const h = Math.max(...metas.map((m) => m.height ?? 0)) + 14;
      const w = metas.reduce((a, m) => a + (m.width ?? 0), 0);
      let left = 0;
      const caption = Buffer.from(
        `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="14"><text x="2" y="11" font-family="sans-serif" font-size="11" fill="#fff">${path.basename(p.file).replace(/[<>&"]/g, '')}: mIoU ${p.miou!.toFixed(3)} — image | truth | prediction</text></svg>`,
      );
      rows.push(
        await sharp({ create: { width: w, height: h, channels: 3, background: '#000' } })
          .composite([
            { input: caption, left: 0, top: 0 },
            ...tiles.map((t, i) => {
              const o = { input: t, left, top: 14 };
              left += metas[i].width ?? 0;
              return o;
            }),
          ])
          .png()
          .toBuffer(),
      );
    }
    if (rows.length) {
      const metas = await Promise.all(rows.map((b) => sharp(b).metadata()));
      let top = 0;
      await sharp({
        create: { width: Math.max(...metas.map((m) => m.width ?? 0)), height: metas.reduce((a, m) => a + (m.height ?? 0), 0), channels: 3, background: '#000' },
      })
        .composite(
          rows.map((b, i) => {
            const o = { input: b, left: 0, top };
            top += metas[i].height ?? 0;
            return o;
          }),
        )
        .png()
        .toFile(gallery);
    }
  }
  const fmt = (v: number | null) => (v === null || Number.isNaN(v) ? '–' : v.toFixed(4));
  const md = [
    `# Segmentation report — ${info.model ?? ''} on ${info.dataset ?? ''}`,
    '',
    `mIoU **${fmt(r.miou)}** over the object classes (${fmt(r.miouAll)} with background), mean Dice ${fmt(r.meanDice)}, pixel accuracy ${fmt(r.pixelAccuracy)} on ${r.images} images.`,
    '',
    '| class | IoU | Dice | pixels (truth) |',
    '| --- | ---: | ---: | ---: |',
    ...r.classNames.map((n, i) => `| ${n} | ${fmt(r.perClassIou[i])} | ${fmt(r.dice[i])} | ${r.matrix[i].reduce((a, b) => a + b, 0)} |`),
    '',
    ...(r.maskAp ? ['Mask AP (COCOeval segm on connected components of the masks):', '', '```', ...r.maskAp.lines, '```', ''] : []),
    ...(r.maskAp ? extendedMarkdown(r.maskAp.extended) : []),
    '![per-class IoU](plots/per_class_iou.png) ![confusion matrix](plots/confusion_matrix.png)',
    '',
    ...(fs.existsSync(gallery) ? ['The worst images (lowest per-image mIoU):', '', '![worst images](plots/worst_images.png)', ''] : []),
    ...Object.entries(info).map(([key, v]) => `- ${key}: ${typeof v === 'number' ? +v.toFixed(4) : String(v)}`),
    '',
  ].join('\n');
  writeFileAtomic(path.join(dir, 'report.md'), md);
}
