import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { Compose, HsvJitter, Mosaic, RandomAffine, RandomFlip, SampleLoader } from '@cv/data';
import { Callback, ConfigError, dataWorkers, deriveSeed, Rng, saveModel, type TaskDefinition } from '@cv/engine';
import fs from 'node:fs';
import sharp from 'sharp';
import { drawBoxes } from './draw';
import type { CocoDataset } from 'coco-ts-api';
import { makeAnchors } from './boxes';
import { type DetectTrainConfig, DetectTrainSchema } from './config';
import { CROWD_CLASS, type DetectionSet, loadDetectionData, subsetDetection } from './data';
import { readDatasetYaml } from './yolo-format';
import { chooseImgsz, type ImgszChoice } from './imgsz';
import { createDetectorWithStages, REG_MAX, STRIDES } from './models';
import { loadPretrained, planFinetune, type FeatureInfo } from '@cv/backbones';
import type { DetectorMetadata } from './predictor';
import { DetectionTask } from './step';
import { writeErrorReports } from './error-analysis';
import { detectSet, DetectionValidator, evaluateDetections, plotDetectionCurves, writeDetectionReport } from './validator';

export interface DetectData {
  train: DetectionSet;
  val: DetectionSet;
  valDescription: string;
  /** The input size (from --imgsz, or chosen by `chooseImgsz`) and what it came from. */
  imgsz: number;
  imgszReason: string;
}

/** The input size of the model a resumed run continues (its last checkpoint), so `--imgsz auto` keeps it. */
function checkpointImgsz(runDir: string): number | null {
  const file = path.join(runDir, 'checkpoints', 'last', 'model', 'model.json');
  if (!fs.existsSync(file)) return null;
  const m = /"batch_input_shape":\[null,(\d+),(\d+),/.exec(fs.readFileSync(file, 'utf8'));
  return m ? Number(m[1]) : null;
}

async function prepare(cfg: DetectTrainConfig, resumeDir?: string): Promise<DetectData> {
  if (!cfg.data) {
    throw new ConfigError(
      'detect:train needs --data <annotations.json | data.yaml> (make a set with: npx nx run data:shapes -- --out datasets/shapes/train --n 3000)',
    );
  }
  if (cfg.imgsz !== 'auto' && cfg.imgsz % 32) throw new ConfigError(`config key 'imgsz': ${cfg.imgsz} is not a multiple of 32 (or use auto)`);
  let choice: ImgszChoice = { imgsz: cfg.imgsz === 'auto' ? 0 : cfg.imgsz, reason: `imgsz ${cfg.imgsz}` };
  const all = await loadDetectionData(
    cfg.data,
    cfg.images,
    (coco) => {
      const resumed = cfg.imgsz === 'auto' && resumeDir ? checkpointImgsz(resumeDir) : null;
      if (resumed) choice = { imgsz: resumed, reason: `imgsz ${resumed} (auto, kept from the run being resumed)` };
      else if (cfg.imgsz === 'auto') choice = chooseImgsz(coco.images, cfg.time > 0 ? cfg.time : undefined);
      return [choice.imgsz, choice.imgsz];
    },
    'train',
  );
  const size: [number, number] = [choice.imgsz, choice.imgsz];
  const chosen = { imgsz: choice.imgsz, imgszReason: choice.reason };
  const yamlVal = /\.ya?ml$/i.test(cfg.data) && !!readDatasetYaml(cfg.data).dirs.val;
  if (cfg.valData || yamlVal) {
    const val = cfg.valData
      ? await loadDetectionData(cfg.valData, cfg.valImages, size, 'val', all.categoryIds)
      : await loadDetectionData(cfg.data, undefined, size, 'val', all.categoryIds);
    return { train: all, val, valDescription: `${cfg.valData ?? `${cfg.data} (val)`} (${val.length} images)`, ...chosen };
  }
  const order = new Rng(deriveSeed(cfg.seed, 'val-split')).shuffle(Array.from({ length: all.length }, (_, i) => i)) as number[];
  const nVal = Math.max(1, Math.round(all.length * 0.1));
  const valIdx = order.slice(0, nVal).sort((a, b) => a - b);
  const trainIdx = order.slice(nVal).sort((a, b) => a - b);
  return {
    train: subsetDetection(all, trainIdx),
    val: subsetDetection(all, valIdx),
    valDescription: `a seeded 10 % of ${cfg.data} (${nVal} images)`,
    ...chosen,
  };
}

/** `--preview N`: the first N augmented training samples with their boxes drawn, in `<run>/preview/` (replica 0). */
class AugmentPreview extends Callback {
  readonly name = 'AugmentPreview';
  constructor(
    readonly loader: SampleLoader,
    readonly n: number,
    readonly dir: string,
    readonly classNames: string[],
  ) {
    super();
  }

  async onTrainBegin(): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    let written = 0;
    for await (const b of this.loader.batches(0)) {
      const [bs, h, w, c] = b.shape;
      for (let i = 0; i < bs && written < this.n; i++, written++) {
        const pixels = Uint8Array.from(b.x.subarray(i * h * w * c, (i + 1) * h * w * c), (v) => Math.round(v * 255));
        const m = b.maxBoxes ?? 0;
        const boxes = Array.from({ length: b.boxCounts?.[i] ?? 0 }, (_, k) => {
          const cls = b.boxClasses![i * m + k];
          return {
            box: Array.from(b.boxes!.subarray((i * m + k) * 4, (i * m + k) * 4 + 4)),
            classIndex: Math.max(0, cls),
            label: cls === CROWD_CLASS ? 'crowd' : this.classNames[cls],
          };
        });
        await drawBoxes(
          sharp(Buffer.from(pixels), { raw: { width: w, height: h, channels: c as 3 } }),
          boxes,
          path.join(this.dir, `${String(written).padStart(3, '0')}.png`),
        );
      }
      if (written >= this.n) break;
    }
  }
}

export interface DetectOutcome {
  runDir: string;
  stats: number[];
  trainSeconds: number;
}

/**
 * YOLO-style detection as a job: COCO data letterboxed to `--imgsz` with mosaic / affine / flip / HSV
 * augmentation (mosaic and affine switched off for the last `--close-augment` planned epochs), the anchor-free detector, the
 * task-aligned assigner with BCE + CIoU + DFL, COCO mAP validation (the best checkpoint follows mAP50-95),
 * the model saved with the metadata its Predictor needs, and the COCO report.
 */
export const detectTask: TaskDefinition<typeof DetectTrainSchema, DetectData, import('@cv/data').SampleBatch, DetectOutcome> = {
  command: 'detect:train',
  root: 'runs/detect',
  schema: DetectTrainSchema,
  data: ({ cfg, resume, runDir }) => prepare(cfg, resume ? runDir : undefined),
  describeData: ({ train, val, valDescription, imgszReason }) =>
    `data: ${train.length} training images, classes ${train.classNames.join(', ')}; validation: ${valDescription}; ${val.coco.annotations.length} validation objects; ${imgszReason}`,
  async build({ train, val, imgsz: size }, { cfg, main, runDir, initialModel, resume }) {
    const numClasses = train.classNames.length;
    const imgsz: [number, number] = [size, size];
    if (initialModel) {
      const shape = initialModel.inputs[0].shape;
      if (shape[1] !== size || shape[2] !== size)
        throw new ConfigError(`the model to continue from takes ${shape[1]}×${shape[2]} inputs, not ${size}×${size}; pass --imgsz ${shape[1]}`);
    }
    // A given model (a replica's copy, a model to continue from) is used as is: no backbone stages to freeze by.
    const built = initialModel
      ? null
      : createDetectorWithStages(cfg.model, { imgsz, numClasses, seed: deriveSeed(cfg.seed, 'init'), backbone: cfg.backbone, widthMult: cfg.widthMult });
    const model = initialModel ?? built!.model;
    const stages: FeatureInfo[] | null = built?.stages ?? null;
    if (cfg.pretrained && !resume && built) {
      const report = await loadPretrained(model, built.backbone, cfg.pretrained === true ? true : cfg.pretrained);
      if (main)
        console.log(
          `pretrained backbone: ${report.loaded.length} layers loaded from ${report.source}; neck and head (${report.skipped.length} layers) start fresh`,
        );
    }
    const plan = planFinetune(cfg, model, stages, () => tf.train.adam(cfg.lr));
    const anchors = makeAnchors(imgsz, STRIDES);
    const colour = new HsvJitter({ h: cfg.hsvH, s: cfg.hsvS, v: cfg.hsvV });
    const geometric = new Compose([
      new Mosaic(train, { p: cfg.mosaic }),
      new RandomAffine({ degrees: cfg.degrees, scale: cfg.scale, translate: cfg.translate }),
      new RandomFlip(cfg.flip),
      colour,
    ]);
    const loader = new SampleLoader(train, {
      batchSize: cfg.batchSize,
      shuffle: true,
      dropLast: train.length > cfg.batchSize,
      transform: geometric,
      workers: dataWorkers(cfg.dataWorkers),
    });
    const plainLoader = new SampleLoader(train, {
      batchSize: cfg.batchSize,
      shuffle: true,
      dropLast: train.length > cfg.batchSize,
      transform: new Compose([new RandomFlip(cfg.flip), colour]),
      workers: dataWorkers(cfg.dataWorkers),
    });
    const task = new DetectionTask(model, Object.values(plan.optimizers)[0], loader, {
      optimizers: plan.optimizers,
      groupsForEpoch: plan.groupsForEpoch,
      anchors,
      numClasses,
      plainLoader,
      closeLast: cfg.closeAugment,
      clipNorm: cfg.clipNorm,
      accumulate: cfg.accumulate,
      weightDecay: cfg.weightDecay,
    });
    const meta = metadataOf(cfg, train, size);
    return {
      task,
      summary: `model: ${cfg.model}${cfg.backbone ? ` (backbone ${cfg.backbone})` : ''} (${model.countParams().toLocaleString('en')} parameters), input ${size}×${size}, ${anchors.count} anchors${plan.summary}`,
      lrScales: plan.lrScales,
      best: { monitor: 'val_map', mode: 'max' },
      stopMonitor: 'val_map',
      emaModels: ['model'],
      validator: main ? new DetectionValidator(val, meta, { conf: cfg.conf, iou: cfg.iou, maxDet: cfg.maxDet }) : undefined,
      callbacks: cfg.preview > 0 ? [new AugmentPreview(loader, cfg.preview, path.join(runDir, 'preview'), train.classNames)] : [],
    };
  },
  async finish({ cfg, runDir, data: { train, val, imgsz }, fit, models, backend }) {
    const meta = metadataOf(cfg, train, imgsz);
    await saveModel(models.model, path.join(runDir, 'model'), meta);
    const results = await detectSet(models.model, meta, val, { conf: cfg.conf, iou: cfg.iou, maxDet: cfg.maxDet });
    const r = evaluateDetections(val.coco as unknown as CocoDataset, results);
    await plotDetectionCurves(runDir, r);
    const files = new Map(val.imageIds.map((id, i) => [id, val.get(i).source]));
    const errors = await writeErrorReports(runDir, val.coco as unknown as CocoDataset, results, train.categoryIds, (id) => files.get(id));
    const info = {
      model: cfg.model,
      dataset: cfg.data,
      validation: val.coco.images.length,
      epochs: fit.epochsDone,
      trainSeconds: fit.trainSeconds,
      backend: backend.name,
    };
    writeDetectionReport(runDir, r, info, errors);
    r.lines.forEach((l) => console.log(l));
    console.log(
      `mAP50-95 ${r.stats[0].toFixed(3)}, mAP50 ${r.stats[1].toFixed(3)} on ${r.images} validation images (train ${fit.trainSeconds.toFixed(0)} s); model: ${path.join(runDir, 'model')}`,
    );
    return { runDir, stats: r.stats, trainSeconds: fit.trainSeconds };
  },
};

function metadataOf(cfg: DetectTrainConfig, train: DetectionSet, imgsz: number): DetectorMetadata {
  return {
    task: 'detect',
    classNames: train.classNames,
    categoryIds: train.categoryIds,
    imgsz: [imgsz, imgsz],
    strides: STRIDES,
    regMax: REG_MAX,
    model: cfg.backbone ? `${cfg.model}+${cfg.backbone}` : cfg.model,
  };
}
