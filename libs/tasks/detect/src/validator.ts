import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { COCO, type CocoDataset, type CocoResult, COCOeval, type ExtendedMetrics, extendedMarkdown, extendedMetrics } from 'coco-ts-api';
import { type EpochValidator, type Logs, readAsync, unitRange, writeFileAtomic } from '@cv/engine';
import { MATCHING_DEFAULTS } from './defaults';
import { renderVegaLite } from '@cv/metrics';
import type { DetectionSet } from './data';
import { type DetectedObject, detectBatchSteps, type DetectOptions, type DetectorMetadata } from './predictor';

/** A COCO result of one detection: image id, category id, [x, y, w, h] in original pixels, score. */
export function toCocoResults(detections: DetectedObject[][], imageIds: number[]): CocoResult[] {
  return detections.flatMap((dets, i) =>
    dets.map((d) => ({
      image_id: imageIds[i],
      category_id: d.categoryId,
      bbox: [d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]],
      score: d.score,
    })),
  );
}

/** Detections of every image of an in-memory (already letterboxed) set, in batches (read back asynchronously). */
export async function detectSet(
  model: tf.LayersModel,
  meta: DetectorMetadata,
  set: DetectionSet,
  options: DetectOptions,
  batchSize = 32,
): Promise<CocoResult[]> {
  const results: CocoResult[] = [];
  for (let i = 0; i < set.length; i += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, set.length - i) }, (_, k) => i + k);
    const samples = idx.map((j) => set.get(j));
    const [h, w, c] = samples[0].shape;
    const flat = new Float32Array(idx.length * h * w * c);
    samples.forEach((s, k) => flat.set(unitRange(s.image), k * h * w * c));
    const x = tf.tensor4d(flat, [idx.length, h, w, c]);
    let dets: DetectedObject[][];
    try {
      dets = await readAsync(
        detectBatchSteps(
          model,
          meta,
          x,
          idx.map((j) => set.transforms[j]),
          options,
        ),
      );
    } finally {
      x.dispose();
    }
    results.push(
      ...toCocoResults(
        dets,
        idx.map((j) => set.imageIds[j]),
      ),
    );
  }
  return results;
}

/** One class's precision–recall curve at IoU 0.5 (COCO's 101 recall points) with the score at each point. */
export interface PrCurve {
  name: string;
  recall: number[];
  precision: number[];
  score: number[];
}

export interface DetectionEvaluation {
  /** PR curves per class at IoU 0.5, area all, the largest maxDets. */
  curves: PrCurve[];
  /** The 12 COCO stats, as pycocotools' summarize() gives them. */
  stats: number[];
  /** The 12 lines pycocotools prints. */
  lines: string[];
  perCategory: { categoryId: number; name: string; ap: number; ap50: number; ap75: number; ar: number }[];
  detections: number;
  images: number;
  /** coco-ts-api's analysis beyond the 12 numbers (F1 at the best confidence, curves, error breakdown), when asked for. */
  extended?: ExtendedMetrics;
}

/** COCOeval (bbox) of results against a COCO file, through coco-ts-api (numbers equal to pycocotools'). */
export function evaluateDetections(gtDataset: CocoDataset, results: CocoResult[], options: { extended?: boolean } = {}): DetectionEvaluation {
  const gt = new COCO(gtDataset);
  const E = new COCOeval(gt, results.length ? gt.loadRes(results) : gt.loadRes([]), 'bbox');
  E.evaluate();
  return summarizeDetections(E, gtDataset, results.length, options);
}

/**
 * The evaluation of an evaluated COCOeval (one `evaluate()`, or the merge of shards: coco-ts-api's `mergeShards`):
 * accumulate, the 12 stats and their lines, PR curves, per-class AP.
 */
export function summarizeDetections(E: COCOeval, gtDataset: CocoDataset, detections: number, options: { extended?: boolean } = {}): DetectionEvaluation {
  E.accumulate();
  const lines: string[] = [];
  const stats = E.summarize((l) => lines.push(l));
  const names = new Map((gtDataset.categories ?? []).map((c) => [c.id, c.name]));
  const ev = E.eval!;
  const [, R, K, A, M] = ev.counts;
  const curves = E.params.catIds.slice(0, K).map((id, k) => {
    const at = (r: number) => (r * K + k) * A * M + (M - 1); // IoU 0.5 (t = 0), area all (a = 0), the last maxDets
    return {
      name: String(names.get(id) ?? id),
      recall: Array.from(E.params.recThrs),
      precision: Array.from({ length: R }, (_, r) => ev.precision[at(r)]),
      score: Array.from({ length: R }, (_, r) => ev.scores[at(r)]),
    };
  });
  return {
    curves,
    stats,
    lines,
    detections,
    images: (gtDataset.images ?? []).length,
    perCategory: E.perCategory().map((c) => ({ ...c, name: names.get(c.categoryId) ?? String(c.categoryId) })),
    ...(options.extended ? { extended: extendedMetrics(E, { names: names as Map<number, string> }) } : {}),
  };
}

/** Per-epoch validation of the job: COCO mAP50-95 and mAP50 of the model (the EMA one when on) on the validation set. */
export class DetectionValidator implements EpochValidator {
  constructor(
    readonly set: DetectionSet,
    readonly meta: DetectorMetadata,
    readonly options: DetectOptions,
  ) {}

  async validate(models: Record<string, tf.LayersModel>): Promise<Logs> {
    const r = evaluateDetections(this.set.coco as unknown as CocoDataset, await detectSet(models.model, this.meta, this.set, this.options));
    return { val_map: r.stats[0], val_map50: r.stats[1], val_map75: r.stats[2] };
  }
}

/**
 * Precision–recall curves per class (IoU 0.5) and the F1–confidence curve (F1 = 2PR/(P + R) at each recall
 * point's score threshold), as plots/pr_curve.{svg,png} and plots/f1_curve.{svg,png}.
 */
export async function plotDetectionCurves(dir: string, r: DetectionEvaluation): Promise<void> {
  const pr = r.curves.flatMap((c) => c.recall.map((rec, i) => ({ class: c.name, recall: rec, precision: Math.max(0, c.precision[i]) })));
  const f1 = r.curves.flatMap((c) =>
    c.recall
      .map((rec, i) => ({ class: c.name, confidence: c.score[i], f1: c.precision[i] > 0 ? (2 * c.precision[i] * rec) / (c.precision[i] + rec) : 0 }))
      .filter((p) => p.confidence > 0),
  );
  const chart = (values: object[], x: string, y: string, title: string) => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 360,
    height: 260,
    data: { values },
    mark: { type: 'line' as const, interpolate: 'step-after' as const },
    encoding: {
      x: { field: x, type: 'quantitative' as const, scale: { domain: [0, 1] } },
      y: { field: y, type: 'quantitative' as const, scale: { domain: [0, 1] } },
      color: { field: 'class', type: 'nominal' as const },
    },
  });
  await renderVegaLite(chart(pr, 'recall', 'precision', 'Precision–recall at IoU 0.5'), path.join(dir, 'plots', 'pr_curve'));
  if (f1.length)
    await renderVegaLite(
      chart(f1, 'confidence', 'f1', 'F1 against the score threshold (IoU 0.5; COCO interpolated precision)'),
      path.join(dir, 'plots', 'f1_curve'),
    );
}

/** The error counts `writeErrorReports` drew galleries of (report.md links a gallery only where it has errors). */
export interface ErrorGalleries {
  falsePositives: number;
  falseNegatives: number;
}

/** The report's error section: a link per gallery drawn, or a line saying there was nothing to draw. */
function errorMarkdown(errors: ErrorGalleries | undefined): string[] {
  if (!errors) return [];
  const at = `score ≥ ${MATCHING_DEFAULTS.conf}, IoU ≥ ${MATCHING_DEFAULTS.iou}`;
  const gallery = (n: number, what: string, order: string, file: string) =>
    n ? [`${n} ${what} at ${at}, ${order} (plots/${file}):`, '', `![${what}](plots/${file})`, ''] : [`No ${what} at ${at}.`, ''];
  return [
    ...gallery(errors.falsePositives, 'false positives', 'highest scores first', 'false_positives.png'),
    ...gallery(errors.falseNegatives, 'false negatives', 'largest first', 'false_negatives.png'),
  ];
}

/**
 * Writes report.json (stats, per category) and report.md of an evaluation into `dir`; `errors` (from
 * `writeErrorReports`, run first) adds the error galleries' section.
 */
export function writeDetectionReport(dir: string, r: DetectionEvaluation, info: Record<string, unknown>, errors?: ErrorGalleries): void {
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(
    path.join(dir, 'report.json'),
    JSON.stringify(
      {
        ...info,
        stats: r.stats,
        perCategory: r.perCategory,
        images: r.images,
        detections: r.detections,
        ...(r.extended ? { extended: r.extended } : {}),
        date: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
  const md = [
    `# Detection report — ${info.model ?? ''} on ${info.dataset ?? ''}`,
    '',
    '```',
    ...r.lines,
    '```',
    '',
    '![PR curves](plots/pr_curve.png) ![F1 curve](plots/f1_curve.png) ![confusion matrix](plots/confusion_matrix.png)',
    '',
    ...errorMarkdown(errors),
    '| category | AP50-95 | AP50 | AP75 | AR@100 |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...r.perCategory.map((c) => `| ${c.name} | ${c.ap.toFixed(3)} | ${c.ap50.toFixed(3)} | ${c.ap75.toFixed(3)} | ${c.ar.toFixed(3)} |`),
    '',
    ...(r.extended ? extendedMarkdown(r.extended) : []),
    ...Object.entries(info).map(([k, v]) => `- ${k}: ${typeof v === 'number' ? +v.toFixed(4) : String(v)}`),
    '',
  ].join('\n');
  writeFileAtomic(path.join(dir, 'report.md'), md);
}
