import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { balancedHead, type ClassificationDataset, type ClassificationSet, DataLoader, loadClassificationDataset, writePng } from '@cv/data';
import { Callback, ConfigError, deriveSeed, type EpochValidator, loadModel, type Logs, saveModel, type TaskDefinition, writeFileAtomic } from '@cv/engine';
import { plotTrainingCurves } from '@cv/metrics';
import { type DcganTrainConfig, DcganTrainSchema, type GeneratorMetadata } from './config';
import { GeneratorEvaluator } from './evaluate';
import { judgeDir } from './judge';
import { ganMarkdown } from './report';
import { createDiscriminator, createGenerator, upsamplings } from './models';
import { generateImagesAsync, imageGrid, latentVectors } from './sampling';
import { type GanBatch, GanTask } from './step';

/** Writes the grid of the fixed latent vectors after every epoch: `samples/epoch_NNN.png`. */
class SampleGrid extends Callback {
  readonly name = 'SampleGrid';
  constructor(readonly args: { dir: string; z: Float32Array; labels?: Int32Array; cols: number }) {
    super();
  }

  async onEpochEnd(epoch: number): Promise<void> {
    const generator = this.trainer.models.generator_ema ?? this.trainer.models.generator;
    const shape = generator.outputs[0].shape.slice(1) as [number, number, number];
    const grid = imageGrid(await generateImagesAsync(generator, this.args.z, this.args.labels), shape, this.args.cols);
    fs.mkdirSync(this.args.dir, { recursive: true });
    await writePng(path.join(this.args.dir, `epoch_${String(epoch + 1).padStart(3, '0')}.png`), grid.pixels, grid.shape);
  }
}

/** The fixed latent vectors of the progress grids (and, conditionally, one class per column). */
export function fixedGrid(seed: number, latentDim: number, numClasses: number): { z: Float32Array; labels?: Int32Array; cols: number } {
  const cols = numClasses || 8;
  const n = 8 * cols;
  const z = latentVectors(n, latentDim, deriveSeed(seed, 'fixed-grid'));
  return numClasses ? { z, labels: Int32Array.from({ length: n }, (_, i) => i % cols), cols } : { z, cols };
}

/** Per-epoch scores of the generator (the EMA one when on): fresh samples each epoch, judged by a classifier. */
export class GanValidator implements EpochValidator {
  constructor(
    readonly judge: GeneratorEvaluator,
    readonly cfg: DcganTrainConfig,
    readonly numClasses: number,
  ) {}

  async validate(models: Record<string, tf.LayersModel>, epoch: number): Promise<Logs> {
    const { cfg, numClasses } = this;
    const z = latentVectors(cfg.evalSamples, cfg.latentDim, deriveSeed(cfg.seed, 'eval', epoch));
    const labels = numClasses ? Int32Array.from({ length: cfg.evalSamples }, (_, i) => i % numClasses) : undefined;
    const s = await this.judge.scoreAsync(await generateImagesAsync(models.generator, z, labels));
    return { fid: s.fid, confidence: s.meanConfidence, class_entropy: s.classEntropy };
  }
}

export interface GanData {
  dataset: ClassificationDataset;
  train: ClassificationSet;
  judgeFolder: string | null;
}

export interface DcganOutcome {
  runDir: string;
  history: Record<string, number>[];
  fidFloor: number | null;
  trainSeconds: number;
}

/**
 * DCGAN training as a job: real images in [-1, 1], G and D with alternating steps, fixed-latent sample
 * grids per epoch, FID / confidence / class entropy by a judging classifier, the generator saved with
 * its sampling metadata.
 */
export const dcganTask: TaskDefinition<typeof DcganTrainSchema, GanData, GanBatch, DcganOutcome> = {
  command: 'dcgan:train',
  root: 'runs/dcgan',
  schema: DcganTrainSchema,
  mayChange: ['ema'],
  async data({ cfg, main }) {
    const dataset = await loadClassificationDataset(cfg.dataset, { size: cfg.imageSize, channels: cfg.channels });
    const train = cfg.trainLimit > 0 ? balancedHead(dataset.train, cfg.trainLimit) : dataset.train;
    try {
      if (train.shape[0] !== train.shape[1]) throw new Error(`images are ${train.shape[0]}×${train.shape[1]}; the DCGAN needs square images`);
      upsamplings(train.shape[0]);
    } catch (e) {
      throw new ConfigError(`config key 'imageSize': ${(e as Error).message}`);
    }
    if (train.labels.length < cfg.batchSize)
      throw new ConfigError(`config key 'batchSize': ${cfg.batchSize} is more than the ${train.labels.length} training images`);
    return { dataset, train, judgeFolder: main && cfg.evalSamples > 0 ? judgeDir(cfg.evalClassifier, cfg.dataset) : null };
  },
  describeData: ({ dataset, train, judgeFolder }) =>
    `data: ${dataset.name} train=${train.labels.length} (${train.shape.join('×')}); judge: ${judgeFolder ?? 'none'}`,
  async build({ dataset, train, judgeFolder }, { cfg, main, runDir }) {
    const judge = judgeFolder ? new GeneratorEvaluator(await loadModel(judgeFolder), train, dataset.test) : null;
    if (judge && main) console.log(`FID floor (real test vs real train, classifier features): ${(await judge.fidFloorAsync()).toFixed(2)}`);
    const numClasses = cfg.conditional ? train.classNames.length : 0;
    const spec = { imageShape: train.shape, latentDim: cfg.latentDim, width: cfg.width, numClasses, seed: deriveSeed(cfg.seed, 'init') };
    const generator = createGenerator(spec);
    const discriminator = createDiscriminator(spec);
    const adam = () => tf.train.adam(cfg.lr, cfg.beta1);
    const loader = new DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, dropLast: true });
    const task = new GanTask(generator, discriminator, adam(), adam(), loader, {
      latentDim: cfg.latentDim,
      realLabel: cfg.realLabel,
      seed: cfg.seed,
      clipNorm: cfg.clipNorm,
    });
    return {
      task,
      summary: `generator ${generator.countParams().toLocaleString('en')} parameters, discriminator ${discriminator.countParams().toLocaleString('en')}`,
      best: judge ? { monitor: 'fid', mode: 'min' } : { monitor: 'g_loss', mode: 'min', saveBest: false },
      emaModels: ['generator'],
      validator: judge ? new GanValidator(judge, cfg, numClasses) : undefined,
      callbacks: [new SampleGrid({ dir: path.join(runDir, 'samples'), ...fixedGrid(cfg.seed, cfg.latentDim, numClasses) })],
    };
  },
  async finish({ cfg, runDir, data: { dataset, train }, built, fit, models, backend }) {
    const numClasses = cfg.conditional ? train.classNames.length : 0;
    const metadata: GeneratorMetadata = {
      task: 'dcgan',
      latentDim: cfg.latentDim,
      imageShape: train.shape,
      classNames: numClasses ? train.classNames : [],
      datasetClassNames: train.classNames,
      dataset: cfg.dataset,
      epochs: fit.epochsDone,
      ...(cfg.ema ? { ema: cfg.ema } : {}),
    };
    await saveModel(models.generator, path.join(runDir, 'generator'), metadata); // the EMA generator when --ema is on
    await plotTrainingCurves(fit.history, path.join(runDir, 'plots', 'metrics'));
    const last = fit.history[fit.history.length - 1] ?? {};
    const fidFloor = built.validator ? (built.validator as GanValidator).judge.fidFloor : null;
    const report = {
      dataset: dataset.name,
      backend: backend.name,
      epochs: fit.epochsDone,
      trainSeconds: fit.trainSeconds,
      fidFloor,
      final: last,
      history: fit.history,
    };
    writeFileAtomic(path.join(runDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    const lastGrid = `samples/epoch_${String(fit.epochsDone).padStart(3, '0')}.png`;
    const judged = { fid: last.fid ?? null, meanConfidence: last.confidence ?? null, classEntropy: last.class_entropy ?? null };
    writeFileAtomic(path.join(runDir, 'report.md'), ganMarkdown({ ...report, ...judged }, lastGrid) + '\n![losses and scores](plots/metrics.png)\n');
    const scores =
      fidFloor !== null
        ? ` FID ${last.fid?.toFixed(2)} (floor ${fidFloor.toFixed(2)}), confidence ${last.confidence?.toFixed(3)}, class entropy ${last.class_entropy?.toFixed(3)};`
        : '';
    console.log(`done: ${fit.epochsDone} epochs in ${fit.trainSeconds.toFixed(0)} s;${scores} generator: ${path.join(runDir, 'generator')}`);
    return { runDir, history: fit.history, fidFloor, trainSeconds: fit.trainSeconds };
  },
};
