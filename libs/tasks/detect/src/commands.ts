import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { decodeImage, listImages } from '@cv/data';
import { ConfigError, initBackend, type LoadOptions, loadPredictor, parseArgs, runtimeKeys, writeFileAtomic } from '@cv/engine';
import type { CocoDataset, CocoResult } from 'coco-ts-api';
import { z } from 'zod';
import { DetectionPredictor, type DetectedObject } from './predict';
import { drawBoxes } from './draw';
import { writeErrorReports } from './error-analysis';
import { evaluateDetections, plotDetectionCurves, toCocoResults, writeDetectionReport } from './validator';
import { cocoToYolo, yoloToCoco } from './yolo-format';

async function detector(model: string | undefined, command: string, options: LoadOptions = {}): Promise<DetectionPredictor> {
  if (!model) throw new ConfigError(`${command} needs --model <dir> (a detect:train run's model/ folder)`);
  const p = await loadPredictor(model, options);
  if (!(p instanceof DetectionPredictor)) throw new ConfigError(`'${model}' is a ${p.task} model, not a detector; use ${p.task}:predict`);
  return p;
}

function readCocoFile(file: string): CocoDataset {
  if (!fs.existsSync(file)) throw new ConfigError(`COCO file '${file}' does not exist; pass --data <annotations.json>`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as CocoDataset;
}

/** Runs the detector over images (in batches), with per-image preprocess / inference ms. */
async function detectFiles(p: DetectionPredictor, files: string[], opts: { conf: number; iou: number; maxDet: number }, batch = 16) {
  const out: DetectedObject[][] = [];
  const time = { decode: 0, preprocess: 0, inference: 0 };
  for (let i = 0; i < files.length; i += batch) {
    const t0 = performance.now();
    const images = await Promise.all(files.slice(i, i + batch).map((f) => decodeImage(f)));
    time.decode += performance.now() - t0;
    out.push(...p.predict(images, opts));
    time.preprocess += p.timing.preprocess * images.length;
    time.inference += p.timing.inference * images.length;
  }
  const n = Math.max(1, files.length);
  return { detections: out, ms: { decode: time.decode / n, preprocess: time.preprocess / n, inferenceAndNms: time.inference / n } };
}

/** COCO results of detections, image ids from the COCO file by file name (else 1..N in file order). */
function cocoResults(files: string[], detections: DetectedObject[][], gt?: CocoDataset): CocoResult[] {
  const idByName = new Map((gt?.images ?? []).map((im) => [im.file_name, im.id]));
  const ids = files.map((f, i) => {
    const id = gt ? idByName.get(path.basename(f)) : i + 1;
    if (id === undefined) throw new ConfigError(`image '${path.basename(f)}' is not in the COCO file's images; pass the matching --data`);
    return id;
  });
  return toCocoResults(detections, ids);
}

export const DetectValSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe("detector folder (a detect:train run's model/)"),
  data: z.string().optional().describe('COCO JSON of the images to score'),
  images: z.string().optional().describe('folder of its images (default <data folder>/images)'),
  json: z.string().optional().describe('write {"stats": [12], "perCategory": [...]} to this file'),
  out: z.string().optional().describe('folder for report.json and report.md'),
  conf: z.number().min(0).max(1).default(0.001).describe('score threshold'),
  iou: z.number().min(0).max(1).default(0.7).describe('NMS IoU threshold'),
  maxDet: z.number().int().positive().default(100).describe('detections kept per image (COCO maxDets)'),
});

/** `detect:val`: the detector's COCO evaluation on a COCO set, the 12 stats printed as pycocotools prints them. */
export async function runDetectVal(argv: string[]): Promise<void> {
  const { config } = parseArgs(DetectValSchema, argv);
  if (!config.data) throw new ConfigError('detect:val needs --data <annotations.json>');
  const gt = readCocoFile(config.data);
  const dir = config.images ?? path.join(path.dirname(config.data), 'images');
  await initBackend({ log: (l) => console.error(l) });
  const p = await detector(config.model, 'detect:val', config);
  const files = (gt.images ?? []).map((im) => path.join(dir, String(im.file_name)));
  const missing = files.find((f) => !fs.existsSync(f));
  if (missing) throw new ConfigError(`image '${missing}' of ${config.data} does not exist; check --images`);
  const { detections, ms } = await detectFiles(p, files, { conf: config.conf, iou: config.iou, maxDet: config.maxDet });
  const results = cocoResults(files, detections, gt);
  const r = evaluateDetections(gt, results);
  r.lines.forEach((l) => console.log(l));
  for (const c of r.perCategory)
    console.log(`${c.name.padEnd(16)} AP ${c.ap.toFixed(3)}  AP50 ${c.ap50.toFixed(3)}  AP75 ${c.ap75.toFixed(3)}  AR ${c.ar.toFixed(3)}`);
  console.log(`${files.length} images, ${ms.inferenceAndNms.toFixed(2)} ms/image inference + NMS`);
  if (config.json) writeFileAtomic(config.json, JSON.stringify({ stats: r.stats, perCategory: r.perCategory }, null, 2) + '\n');
  if (config.out) {
    writeDetectionReport(config.out, r, { model: config.model, dataset: config.data });
    const cats = [...(gt.categories ?? [])].map((c) => c.id).sort((a, b) => a - b);
    await plotDetectionCurves(config.out, r);
    const fileOf = new Map((gt.images ?? []).map((im, i) => [im.id, files[i]]));
    const e = await writeErrorReports(config.out, gt, results, cats, (id) => fileOf.get(id));
    console.log(`report → ${config.out}/report.md (${e.falsePositives} false positives, ${e.falseNegatives} false negatives at score ≥ 0.25)`);
  }
}

export const DetectPredictSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe('detector folder'),
  images: z.string().optional().describe('folder of images (or one image file)'),
  data: z.string().optional().describe('COCO JSON whose image ids the results use (matched by file name)'),
  out: z.string().optional().describe('folder for the drawn images and results.json'),
  conf: z.number().min(0).max(1).default(0.25).describe('score threshold'),
  iou: z.number().min(0).max(1).default(0.7).describe('NMS IoU threshold'),
  maxDet: z.number().int().positive().default(300).describe('detections kept per image'),
});

/** `detect:predict`: boxes with labels and scores drawn on each image, and a COCO results list. */
export async function runDetectPredict(argv: string[]): Promise<void> {
  const { config } = parseArgs(DetectPredictSchema, argv);
  if (!config.images) throw new ConfigError('detect:predict needs --images <dir or image>');
  if (!config.out) throw new ConfigError('detect:predict needs --out <dir> for the drawn images and results.json');
  const files = listImages(config.images);
  const gt = config.data ? readCocoFile(config.data) : undefined;
  await initBackend({ log: (l) => console.error(l) });
  const p = await detector(config.model, 'detect:predict', config);
  const started = performance.now();
  const { detections, ms } = await detectFiles(p, files, { conf: config.conf, iou: config.iou, maxDet: config.maxDet });
  const results = cocoResults(files, detections, gt);
  const seconds = (performance.now() - started) / 1000;
  const tmp = `${config.out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  for (let i = 0; i < files.length; i++) await drawBoxes(sharp(files[i]), detections[i], path.join(tmp, `${path.parse(files[i]).name}.png`));
  writeFileAtomic(path.join(tmp, 'results.json'), JSON.stringify(results));
  fs.rmSync(config.out, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(path.resolve(config.out)), { recursive: true });
  fs.renameSync(tmp, config.out);
  console.log(
    `${files.length} images, ${results.length} detections → ${config.out}/ (results.json); per image: decode ${ms.decode.toFixed(2)} ms, ` +
      `preprocess ${ms.preprocess.toFixed(2)} ms, inference + NMS ${ms.inferenceAndNms.toFixed(2)} ms; ${(files.length / seconds).toFixed(0)} img/s end to end`,
  );
}

export const DetectConvertSchema = z.object({
  from: z.enum(['coco', 'yolo']).optional().describe('input format'),
  data: z.string().optional().describe('COCO JSON (--from coco) or dataset YAML (--from yolo)'),
  images: z.string().optional().describe('COCO images folder (default <data folder>/images)'),
  split: z.string().default('train').describe('split to write (coco → yolo) or read (yolo → coco)'),
  out: z.string().optional().describe('output: a folder (coco → yolo) or a JSON file (yolo → coco)'),
});

/** `detect:convert`: COCO ⇄ YOLO txt datasets. */
export async function runDetectConvert(argv: string[]): Promise<void> {
  const { config } = parseArgs(DetectConvertSchema, argv);
  if (!config.from || !config.data || !config.out) throw new ConfigError('detect:convert needs --from coco|yolo --data <file> --out <path>');
  if (config.from === 'coco') {
    if (!fs.existsSync(config.data)) throw new ConfigError(`COCO file '${config.data}' does not exist`);
    const r = cocoToYolo(config.data, config.images ?? path.join(path.dirname(config.data), 'images'), config.out, config.split);
    console.log(`wrote ${config.out}: ${r.images} images, ${r.labels} labels, data.yaml`);
  } else {
    const { coco } = await yoloToCoco(config.data, config.split);
    writeFileAtomic(config.out, JSON.stringify(coco));
    console.log(`wrote ${config.out}: ${coco.images.length} images, ${coco.annotations.length} annotations, ${coco.categories.length} categories`);
  }
}
