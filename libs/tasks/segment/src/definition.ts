import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { Compose, HsvJitter, RandomAffine, RandomFlip, SampleLoader } from '@cv/data';
import { loadPretrained, planFinetune } from '@cv/backbones';
import { ConfigError, dataWorkers, deriveSeed, Rng, saveModel, type TaskDefinition } from '@cv/engine';
import { type SegmentTrainConfig, SegmentTrainSchema } from './config';
import { loadSegmentationData, type SegmentationSet, type SegmentationSource, subsetSegmentation } from './data';
import { type LossSpec, parseLoss } from './losses';
import { createSegmenterWithStages, reductionOf } from './models';
import { colourOf, SegmentationPredictor, type SegmenterMetadata } from './predictor';
import { SegmentationTask } from './step';
import { evaluateSegmenter, SegmentationValidator, writeSegmentationReport } from './validator';

export interface SegmentData {
  train: SegmentationSet;
  val: SegmentationSet;
}

function sourceOf(images: string | undefined, masks: string | undefined, data: string | undefined, flag: string): SegmentationSource | undefined {
  if (data) return { data, images: images ?? path.join(path.dirname(data), 'images') };
  if (images && masks) return { images, masks };
  if (images || masks) throw new ConfigError(`${flag}: give both --${flag}images and --${flag}masks (or --${flag}data <coco json>)`);
  return undefined;
}

/** `--loss` and `--class-weights` checked before any data is read. */
function lossOf(cfg: SegmentTrainConfig, numClasses?: number): LossSpec {
  try {
    const classWeights = cfg.classWeights?.split(',').map(Number);
    if (classWeights && numClasses !== undefined && classWeights.length !== numClasses)
      throw new Error(`--class-weights has ${classWeights.length} values for ${numClasses} classes; give one per class, background first`);
    if (classWeights?.some((w) => !(w >= 0))) throw new Error(`--class-weights '${cfg.classWeights}': every weight must be a number ≥ 0`);
    return { terms: parseLoss(cfg.loss), classWeights };
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

async function prepare(cfg: SegmentTrainConfig): Promise<SegmentData> {
  lossOf(cfg);
  const src = sourceOf(cfg.images, cfg.masks, cfg.data, '');
  if (!src)
    throw new ConfigError(
      'segment:train needs --images <dir> --masks <dir> (or --data <coco json>); make a set with: npx nx run data:shapes -- --out datasets/shapes/train --n 3000',
    );
  const r = reductionOf(cfg.model, cfg.encoder);
  if (cfg.imgsz % r) throw new ConfigError(`config key 'imgsz': ${cfg.imgsz} is not a multiple of the encoder's reduction ${r}`);
  const imgsz: [number, number] = [cfg.imgsz, cfg.imgsz];
  const classNames = cfg.classes?.split(',').map((s) => s.trim());
  const all = await loadSegmentationData(src, { imgsz, classNames, split: 'train' });
  if (all.classNames.length < 2)
    throw new ConfigError(`the masks hold one class only (${all.classNames.join(', ')}); a segmenter needs background and at least one class`);
  const valSrc = sourceOf(cfg.valImages, cfg.valMasks, cfg.valData, 'val-');
  if (valSrc) return { train: all, val: await loadSegmentationData(valSrc, { imgsz, classNames: all.classNames, split: 'val' }) };
  const order = new Rng(deriveSeed(cfg.seed, 'val-split')).shuffle(Array.from({ length: all.length }, (_, i) => i)) as number[];
  const nVal = Math.max(1, Math.round(all.length * 0.1));
  const valIdx = order.slice(0, nVal).sort((a, b) => a - b);
  const trainIdx = order.slice(nVal).sort((a, b) => a - b);
  return {
    train: subsetSegmentation(all, trainIdx, `${all.description}, ${trainIdx.length} after the validation split`),
    val: subsetSegmentation(all, valIdx, `a seeded 10 % of ${all.description} (${nVal} images)`),
  };
}

export interface SegmentOutcome {
  runDir: string;
  miou: number;
  trainSeconds: number;
}

function metadataOf(cfg: SegmentTrainConfig, train: SegmentationSet): SegmenterMetadata {
  return {
    task: 'segment',
    classNames: train.classNames,
    colours: train.classNames.map((_, i) => colourOf(i)),
    imgsz: [cfg.imgsz, cfg.imgsz],
    reduction: reductionOf(cfg.model, cfg.encoder),
    model: cfg.model,
    encoder: cfg.encoder ?? null,
  };
}

/**
 * U-Net segmentation as a job: images letterboxed to `--imgsz` with their masks, flip / affine (masks by
 * nearest neighbour) / HSV (images only) augmentation, the U-Net, CE + Dice (or any `--loss` sum), mIoU
 * validation (the best checkpoint follows it), the model saved with its Predictor metadata, and the report
 * computed at the validation images' own sizes through the Predictor.
 */
export const segmentTask: TaskDefinition<typeof SegmentTrainSchema, SegmentData, import('@cv/data').SampleBatch, SegmentOutcome> = {
  command: 'segment:train',
  root: 'runs/segment',
  schema: SegmentTrainSchema,
  data: ({ cfg }) => prepare(cfg),
  describeData: ({ train, val }) => `data: ${train.description}, classes ${train.classNames.join(', ')}; validation: ${val.description}`,
  async build({ train, val }, { cfg, main, resume, initialModel }) {
    // A given model (a model to continue from) is used as is: no encoder stages to freeze by.
    const built = initialModel
      ? null
      : createSegmenterWithStages(cfg.model, {
          numClasses: train.classNames.length,
          seed: deriveSeed(cfg.seed, 'init'),
          encoder: cfg.encoder,
          upsample: cfg.upsample,
          widthMult: cfg.widthMult,
        });
    const model = initialModel ?? built!.model;
    if (cfg.pretrained && !resume && built) {
      const report = await loadPretrained(model, built.encoder, cfg.pretrained === true ? true : cfg.pretrained);
      if (main)
        console.log(`pretrained encoder: ${report.loaded.length} layers loaded from ${report.source}; ${report.skipped.length} (the decoder) kept initialised`);
    }
    const loss = lossOf(cfg, train.classNames.length);
    const colour = new HsvJitter({ h: cfg.hsvH, s: cfg.hsvS, v: cfg.hsvV });
    const augment = new Compose([new RandomAffine({ degrees: cfg.degrees, scale: cfg.scale, translate: cfg.translate }), new RandomFlip(cfg.flip), colour]);
    const opts = { batchSize: cfg.batchSize, shuffle: true, dropLast: train.length > cfg.batchSize, workers: dataWorkers(cfg.dataWorkers) };
    const loader = new SampleLoader(train, { ...opts, transform: augment });
    const plainLoader = new SampleLoader(train, { ...opts, transform: new Compose([new RandomFlip(cfg.flip), colour]) });
    const plan = planFinetune(cfg, model, built?.stages ?? null, () => tf.train.adam(cfg.lr));
    const task = new SegmentationTask(model, Object.values(plan.optimizers)[0], loader, {
      optimizers: plan.optimizers,
      groupsForEpoch: plan.groupsForEpoch,
      loss,
      plainLoader,
      closeLast: cfg.closeAugment,
      clipNorm: cfg.clipNorm,
      accumulate: cfg.accumulate,
      weightDecay: cfg.weightDecay,
    });
    return {
      task,
      summary: `model: ${cfg.model}${cfg.encoder ? ` (encoder ${cfg.encoder})` : ''}, ${model.countParams().toLocaleString('en')} parameters, input ${cfg.imgsz}×${cfg.imgsz}, loss ${cfg.loss}${plan.summary}`,
      lrScales: plan.lrScales,
      best: { monitor: 'val_miou', mode: 'max' },
      stopMonitor: 'val_miou',
      emaModels: ['model'],
      validator: main ? new SegmentationValidator(val) : undefined,
    };
  },
  async finish({ cfg, runDir, data: { train, val }, fit, models, backend }) {
    const meta = metadataOf(cfg, train);
    await saveModel(models.model, path.join(runDir, 'model'), meta);
    const predictor = new SegmentationPredictor(models.model);
    const items = val.files.map((file, i) => ({ file, truth: () => val.truth(i) }));
    const r = await evaluateSegmenter(predictor, items);
    const byFile = new Map(val.files.map((f, i) => [f, i]));
    await writeSegmentationReport(
      runDir,
      r,
      {
        model: cfg.model,
        dataset: train.description,
        validation: val.description,
        epochs: fit.epochsDone,
        trainSeconds: fit.trainSeconds,
        backend: backend.name,
      },
      { predictor, truthOf: (f) => val.truth(byFile.get(f)!) },
    );
    const iou = r.classNames.map((n, i) => `${n} ${r.perClassIou[i]?.toFixed(3) ?? '–'}`).join(', ');
    console.log(
      `mIoU ${r.miou.toFixed(4)} (with background ${r.miouAll.toFixed(4)}; ${iou}), pixel accuracy ${r.pixelAccuracy.toFixed(4)} on ${r.images} validation images (train ${fit.trainSeconds.toFixed(0)} s); model: ${path.join(runDir, 'model')}`,
    );
    return { runDir, miou: r.miou, trainSeconds: fit.trainSeconds };
  },
};
