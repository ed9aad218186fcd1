import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { DataLoader } from '@cv/data';
import {
  type Callback, ConfigError, CosineDecay, deriveSeed, EarlyStopping, initBackend, MetricsLogger, ModelCheckpoint,
  prepareRunDir, ProgressBar, replicaRank, resolveRun, resolveWorkers, startReplicas, ReduceLROnPlateau, saveModel, StepDecay, TerminateOnNaN, Trainer, writeFileAtomic,
} from '@cv/engine';
import { freezeUpTo, listBackbones, loadPretrained, type FeatureInfo } from '@cv/backbones';
import {
  backboneClassifier, ClassificationTask, type ClassifierMetadata, type ClassifyTrainConfig, ClassifyTrainSchema, createClassifier, type ParamGroup,
} from '@cv/tasks-classify';
import { prepareData } from './data';
import { evaluateAndReport, setAccuracy } from './evaluate';


function makeOptimizer(cfg: ClassifyTrainConfig): tf.Optimizer {
  return cfg.optimizer === 'sgd' ? tf.train.momentum(cfg.lr, 0.9, true) : tf.train.adam(cfg.lr);
}

function makeCallbacks(cfg: ClassifyTrainConfig, runDir: string, stepsPerEpoch: number, hasVal: boolean): Callback[] {
  const monitor = hasVal ? 'val_loss' : 'loss';
  const callbacks: Callback[] = [new ProgressBar(), new TerminateOnNaN()];
  if (cfg.schedule === 'cosine') {
    callbacks.push(new CosineDecay({ baseLr: cfg.lr, totalSteps: cfg.epochs * stepsPerEpoch, warmupSteps: Math.round(cfg.warmupEpochs * stepsPerEpoch), minLr: cfg.lr * 0.01 }));
  } else if (cfg.schedule === 'step') callbacks.push(new StepDecay({ baseLr: cfg.lr, stepSize: cfg.stepSize, gamma: 0.1 }));
  else if (cfg.schedule === 'plateau') callbacks.push(new ReduceLROnPlateau({ monitor, factor: 0.5, patience: 2, minLr: cfg.lr * 1e-3 }));
  if (cfg.patience > 0) callbacks.push(new EarlyStopping({ monitor, patience: cfg.patience, restoreBestWeights: true }));
  callbacks.push(new MetricsLogger({ dir: runDir }));
  callbacks.push(new ModelCheckpoint({ dir: path.join(runDir, 'checkpoints'), monitor: hasVal ? 'val_accuracy' : 'accuracy' }));
  return callbacks;
}

/** Callbacks that change training (every replica runs them); the others only print or write files. */
const STATE_CALLBACKS = new Set(['TerminateOnNaN', 'CosineDecay', 'StepDecay', 'ReduceLROnPlateau', 'EarlyStopping']);

const NATIVE_MODELS = new Set(['simple-cnn', 'reference-cnn']);

/** The model, and for registry backbones their stages (for freezing and per-group learning rates). */
async function buildModel(cfg: ClassifyTrainConfig, inputShape: [number, number, number], numClasses: number, resume: boolean) {
  const spec = {
    inputShape, numClasses, seed: deriveSeed(cfg.seed, 'init'), dropout: cfg.dropout,
    spatialDropout: cfg.spatialDropout, dropBlock: cfg.dropBlock, dropBlockSize: cfg.dropBlockSize,
  };
  const isBackbone = !NATIVE_MODELS.has(cfg.model) && listBackbones().includes(cfg.model);
  if (!isBackbone) {
    if (cfg.pretrained || cfg.freeze !== 'none' || cfg.finetuneLr > 0) {
      throw new ConfigError(`--pretrained, --freeze and --finetune-lr need a backbone model (${listBackbones().filter((b) => !NATIVE_MODELS.has(b)).join(', ')}), not '${cfg.model}'`);
    }
    return { model: createClassifier(cfg.model, spec), stages: null as FeatureInfo[] | null };
  }
  const { model, stages } = backboneClassifier(cfg.model, { ...spec, bn: cfg.bn });
  if (cfg.freeze !== 'none') freezeUpTo(model, stages, cfg.freeze); // validates the stage name up front
  if (cfg.pretrained && !resume) {
    const report = await loadPretrained(model, cfg.model, cfg.pretrained === true ? true : cfg.pretrained);
    const skipped = report.skipped.map((s) => `${s.layer} (${s.reason})`).join('; ');
    console.log(`pretrained: ${report.loaded.length} layers loaded from ${report.source}${skipped ? `; kept initialised: ${skipped}` : ''}`);
  }
  return { model, stages };
}

/**
 * Optimizers and parameter groups: with --freeze, a first phase trains what is not frozen (optimizer
 * 'phase1'); afterwards, with --finetune-lr, the head ('head') and the backbone ('backbone') train at
 * their own rates. Each optimizer always sees the same weights (tfjs optimizers keep slots by position).
 */
function planGroups(cfg: ClassifyTrainConfig, model: tf.LayersModel, stages: FeatureInfo[] | null) {
  const isHead = (name: string) => name.startsWith('head_');
  const freezeEpochs = cfg.freeze === 'none' ? 0 : cfg.freezeEpochs || Math.max(1, Math.floor(cfg.epochs / 2));
  const finetuneLr = cfg.finetuneLr;
  const split = stages !== null && finetuneLr > 0;
  const names = freezeEpochs > 0 ? ['phase1'] : [];
  names.push(...(split ? ['head', 'backbone'] : ['optimizer']));
  const optimizers = Object.fromEntries(names.map((n) => [n, makeOptimizer(cfg)]));
  const lrScales: Record<string, number> = split ? { backbone: finetuneLr / cfg.lr } : {};
  const groupsForEpoch = (epoch: number): ParamGroup[] => {
    if (epoch < freezeEpochs) {
      freezeUpTo(model, stages!, cfg.freeze);
      return [{ optimizer: 'phase1', owns: () => true }];
    }
    if (stages) freezeUpTo(model, stages, 'none');
    return split ? [{ optimizer: 'head', owns: isHead }, { optimizer: 'backbone', owns: (n) => !isHead(n) }] : [{ optimizer: 'optimizer', owns: () => true }];
  };
  return { optimizers, lrScales, groupsForEpoch, freezeEpochs };
}

export interface TrainingOutcome {
  cfg: ClassifyTrainConfig;
  runDir: string;
  model: tf.LayersModel;
  report: Awaited<ReturnType<typeof evaluateAndReport>>;
  trainSeconds: number;
  datasetName: string;
  split: string;
}

/** The whole `classify:train` job: config → data → model → Trainer → saved model → test report. */
export async function runTraining(argv: string[]): Promise<TrainingOutcome | null> {
  const { cfg, runDir, resume } = resolveRun(ClassifyTrainSchema, argv, { root: 'runs/classify', writer: 'classify:train', mayChange: ['epochs', 'threads'] });
  const main = replicaRank() === 0; // replica workers (--workers > 1) run this same function, quietly and without files
  const backend = await initBackend({ log: main, replicas: resolveWorkers(cfg.workers), threads: cfg.threads });
  const { dataset, train, val } = await prepareData(cfg); // before touching the run folder: bad data leaves nothing behind
  const { model, stages } = await buildModel(cfg, train.shape, train.classNames.length, resume);
  const replicas = await startReplicas(resolveWorkers(cfg.workers), model.countParams() + 64);
  if (main) {
    if (!resume) prepareRunDir(runDir);
    writeFileAtomic(path.join(runDir, 'args.json'), JSON.stringify({ ...cfg, out: runDir, backend: backend.name, kernels: backend.kernels }, null, 2) + '\n');
  }
  console.log(`data: ${dataset.name} train=${train.labels.length} val=${val?.labels.length ?? 0} test=${dataset.test.labels.length} (${dataset.splitDescription})`);
  const augment = { cropPadding: cfg.cropPadding, flip: cfg.flip, rotate: cfg.rotate, scale: cfg.scale, translate: cfg.translate, brightness: cfg.brightness, contrast: cfg.contrast };
  const trainLoader = new DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, augment });
  const valLoader = val ? new DataLoader(val, { batchSize: 256 }) : undefined;
  const plan = planGroups(cfg, model, stages);
  const task = new ClassificationTask(model, plan.optimizers.optimizer ?? Object.values(plan.optimizers)[0], trainLoader, valLoader, {
    optimizers: plan.optimizers, groupsForEpoch: plan.groupsForEpoch, seed: cfg.seed,
    regularization: { labelSmoothing: cfg.labelSmoothing, mixup: cfg.mixup, cutmix: cfg.cutmix, l2: cfg.l2, weightDecay: cfg.weightDecay },
  });
  const callbacks = makeCallbacks(cfg, runDir, task.stepsPerEpoch, !!val).filter((c) => main || STATE_CALLBACKS.has(c.name));
  const phases = plan.freezeEpochs ? `, ${cfg.freeze} frozen for ${plan.freezeEpochs} epoch(s)` : '';
  console.log(`model: ${cfg.model} (${model.countParams().toLocaleString('en')} parameters), ${cfg.epochs} epochs × ${task.stepsPerEpoch} steps${phases}, run: ${runDir}`);
  const result = await new Trainer(task, { epochs: cfg.epochs, runDir, seed: cfg.seed, callbacks, resume, lrScales: plan.lrScales, replicas }).fit();
  if (!main) return null;
  await replicas.close();
  if (result.failed) throw new Error(`training failed: ${result.stopReason}`);
  const metadata: ClassifierMetadata = { task: 'classify', classNames: train.classNames, inputShape: train.shape, dataset: dataset.name, model: cfg.model };
  await saveModel(model, path.join(runDir, 'model'), metadata as unknown as Record<string, unknown>);
  const report = await evaluateAndReport(model, dataset.test, runDir, {
    trainAccuracy: setAccuracy(model, train),
    backend: backend.name, epochs: result.epochsDone, trainSeconds: result.trainSeconds, dataset: dataset.name, model: cfg.model, split: dataset.splitDescription,
  });
  console.log(`test accuracy: ${(100 * report.accuracy).toFixed(2)} % on ${report.testImages} images; train accuracy ${(100 * (report.trainAccuracy ?? 0)).toFixed(2)} % (train ${result.trainSeconds.toFixed(0)} s)`);
  console.log(`report: ${path.join(runDir, 'report.md')}  model: ${path.join(runDir, 'model')}`);
  return { cfg, runDir, model, report, trainSeconds: result.trainSeconds, datasetName: dataset.name, split: dataset.splitDescription };
}
