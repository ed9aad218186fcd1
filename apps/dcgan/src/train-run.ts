import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { balancedHead, DataLoader, loadClassificationDataset, writePng } from '@cv/data';
import {
  Callback, ConfigError, deriveSeed, initBackend, loadModel, MetricsLogger, ModelCheckpoint,
  prepareRunDir, ProgressBar, replicaRank, resolveRun, resolveWorkers, saveModel, startReplicas, TerminateOnNaN, Trainer, writeFileAtomic,
} from '@cv/engine';
import { plotTrainingCurves } from '@cv/metrics';
import {
  createDiscriminator, createGenerator, type DcganTrainConfig, DcganTrainSchema, GanTask, generateImages, GeneratorEvaluator,
  type GeneratorMetadata, imageGrid, latentVectors, upsamplings,
} from '@cv/tasks-gan';

/** The classifier folder that judges samples: explicit, `models/classify/<dataset>` for 'auto', or none. */
function judgeDir(cfg: DcganTrainConfig): string | null {
  if (cfg.evalClassifier === 'none' || cfg.evalSamples === 0) return null;
  if (cfg.evalClassifier !== 'auto') {
    if (!fs.existsSync(path.join(cfg.evalClassifier, 'model.json'))) {
      throw new ConfigError(`config key 'evalClassifier': '${cfg.evalClassifier}' has no model.json; pass a folder written by classify:train / classify:export, or 'none'`);
    }
    return cfg.evalClassifier;
  }
  const builtin = path.join('models', 'classify', cfg.dataset);
  return ['mnist', 'fashion-mnist'].includes(cfg.dataset) && fs.existsSync(path.join(builtin, 'model.json')) ? builtin : null;
}

/** Writes the grid of the fixed latent vectors after every epoch: `samples/epoch_NNN.png`. */
class SampleGrid extends Callback {
  readonly name = 'SampleGrid';
  constructor(readonly args: { dir: string; z: Float32Array; labels?: Int32Array; cols: number }) {
    super();
  }

  async onEpochEnd(epoch: number): Promise<void> {
    const generator = this.trainer.models.generator_ema ?? this.trainer.models.generator;
    const shape = generator.outputs[0].shape.slice(1) as [number, number, number];
    const grid = imageGrid(generateImages(generator, this.args.z, this.args.labels), shape, this.args.cols);
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

export interface DcganOutcome {
  runDir: string;
  history: Record<string, number>[];
  fidFloor: number | null;
  trainSeconds: number;
}

/** The whole `dcgan:train` job: config → data → G and D → Trainer (alternating steps) → saved generator. */
export async function runDcganTraining(argv: string[]): Promise<DcganOutcome | null> {
  const { cfg, runDir, resume } = resolveRun(DcganTrainSchema, argv, { root: 'runs/dcgan', writer: 'dcgan:train', mayChange: ['epochs', 'ema', 'threads'] });
  const main = replicaRank() === 0; // replica workers run this same function, quietly and without files
  const backend = await initBackend({ log: main, replicas: resolveWorkers(cfg.workers), threads: cfg.threads });
  const dataset = await loadClassificationDataset(cfg.dataset, { size: cfg.imageSize, channels: cfg.channels });
  const train = cfg.trainLimit > 0 ? balancedHead(dataset.train, cfg.trainLimit) : dataset.train;
  const imageShape = train.shape;
  try {
    if (imageShape[0] !== imageShape[1]) throw new Error(`images are ${imageShape[0]}×${imageShape[1]}; the DCGAN needs square images`);
    upsamplings(imageShape[0]);
  } catch (e) {
    throw new ConfigError(`config key 'imageSize': ${(e as Error).message}`);
  }
  if (train.labels.length < cfg.batchSize) throw new ConfigError(`config key 'batchSize': ${cfg.batchSize} is more than the ${train.labels.length} training images`);
  const judgeFolder = main ? judgeDir(cfg) : null;
  const judge = judgeFolder ? new GeneratorEvaluator(await loadModel(judgeFolder), train, dataset.test) : null;
  const numClasses = cfg.conditional ? train.classNames.length : 0;
  const spec = { imageShape, latentDim: cfg.latentDim, width: cfg.width, numClasses, seed: deriveSeed(cfg.seed, 'init') };
  const generator = createGenerator(spec);
  const discriminator = createDiscriminator(spec);
  const workers = resolveWorkers(cfg.workers);
  const replicas = await startReplicas(workers, Math.max(generator.countParams(), discriminator.countParams()) + 64);
  if (main) {
    if (!resume) prepareRunDir(runDir);
    writeFileAtomic(path.join(runDir, 'args.json'), JSON.stringify({ ...cfg, out: runDir, backend: backend.name, kernels: backend.kernels }, null, 2) + '\n');
  }
  console.log(`data: ${dataset.name} train=${train.labels.length} (${imageShape.join('×')}); judge: ${judgeFolder ?? 'none'}; ${workers} replica(s)`);
  const fidFloor = judge ? judge.fidFloor : null;
  if (judge) console.log(`FID floor (real test vs real train, classifier features): ${fidFloor!.toFixed(2)}`);

  // Fresh samples each epoch (their own seed per epoch), scored by the judge.
  const evaluate = judge
    ? (g: tf.LayersModel, epoch: number) => {
      const seed = deriveSeed(cfg.seed, 'eval', epoch);
      const z = latentVectors(cfg.evalSamples, cfg.latentDim, seed);
      const labels = numClasses ? Int32Array.from({ length: cfg.evalSamples }, (_, i) => i % numClasses) : undefined;
      const s = judge.score(generateImages(g, z, labels));
      return { fid: s.fid, confidence: s.meanConfidence, class_entropy: s.classEntropy };
    }
    : undefined;
  const adam = () => tf.train.adam(cfg.lr, cfg.beta1);
  const loader = new DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, dropLast: true });
  const ema = cfg.ema > 0 ? { model: createGenerator(spec), decay: cfg.ema } : undefined;
  const task = new GanTask(generator, discriminator, adam(), adam(), loader, { latentDim: cfg.latentDim, realLabel: cfg.realLabel, seed: cfg.seed, evaluate, ema });
  const callbacks: Callback[] = !main ? [new TerminateOnNaN()] : [
    new ProgressBar(),
    new TerminateOnNaN(),
    new SampleGrid({ dir: path.join(runDir, 'samples'), ...fixedGrid(cfg.seed, cfg.latentDim, numClasses) }),
    new MetricsLogger({ dir: runDir }),
    new ModelCheckpoint({ dir: path.join(runDir, 'checkpoints'), monitor: judge ? 'fid' : 'g_loss', mode: 'min', saveBest: !!judge }),
  ];
  console.log(`generator ${generator.countParams().toLocaleString('en')} parameters, discriminator ${discriminator.countParams().toLocaleString('en')}; ${cfg.epochs} epochs × ${task.stepsPerEpoch} steps, run: ${runDir}`);
  const result = await new Trainer(task, { epochs: cfg.epochs, runDir, seed: cfg.seed, callbacks, resume, replicas }).fit();
  if (!main) return null;
  await replicas.close();
  if (result.failed) throw new Error(`training failed: ${result.stopReason}; the last good checkpoint is ${path.join(runDir, 'checkpoints', 'last')}`);

  const metadata: GeneratorMetadata = {
    task: 'dcgan', latentDim: cfg.latentDim, imageShape, classNames: numClasses ? train.classNames : [], datasetClassNames: train.classNames,
    dataset: cfg.dataset, epochs: result.epochsDone, ...(cfg.ema ? { ema: cfg.ema } : {}),
  };
  await saveModel(task.sampler, path.join(runDir, 'generator'), metadata as unknown as Record<string, unknown>);
  await plotTrainingCurves(result.history, path.join(runDir, 'plots', 'metrics'));
  const last = result.history[result.history.length - 1] ?? {};
  const report = { dataset: dataset.name, backend: backend.name, epochs: result.epochsDone, trainSeconds: result.trainSeconds, fidFloor, final: last, history: result.history };
  writeFileAtomic(path.join(runDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const scores = judge ? ` FID ${last.fid?.toFixed(2)} (floor ${fidFloor!.toFixed(2)}), confidence ${last.confidence?.toFixed(3)}, class entropy ${last.class_entropy?.toFixed(3)};` : '';
  console.log(`done: ${result.epochsDone} epochs in ${result.trainSeconds.toFixed(0)} s;${scores} generator: ${path.join(runDir, 'generator')}`);
  return { runDir, history: result.history, fidFloor, trainSeconds: result.trainSeconds };
}
