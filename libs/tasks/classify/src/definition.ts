import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { DataLoader } from '@cv/data';
import { ConfigError, deriveSeed, saveModel, type TaskDefinition } from '@cv/engine';
import { freezeUpTo, listBackbones, listReferenceBackbones, loadPretrained, planFinetune, type FeatureInfo } from '@cv/backbones';
import { type ClassifyTrainConfig, ClassifyTrainSchema } from './config';
import { type PreparedData, prepareData, referenceCrop } from './data';
import { backboneClassifier, createClassifier } from './models';
import type { ClassifierMetadata } from './predictor';
import { ClassificationTask, type TensorBatch } from './step';
import { ClassificationValidator, evaluateClassifier, writeClassificationReport } from './validator';

const NATIVE_MODELS = new Set(['simple-cnn', 'reference-cnn']);

function makeOptimizer(cfg: ClassifyTrainConfig): tf.Optimizer {
  return cfg.optimizer === 'sgd' ? tf.train.momentum(cfg.lr, 0.9, true) : tf.train.adam(cfg.lr);
}

/** The model, and for registry backbones their stages (for freezing and per-group learning rates). */
async function buildModel(cfg: ClassifyTrainConfig, inputShape: [number, number, number], numClasses: number, resume: boolean, log: boolean) {
  const spec = {
    inputShape,
    numClasses,
    seed: deriveSeed(cfg.seed, 'init'),
    dropout: cfg.dropout,
    spatialDropout: cfg.spatialDropout,
    dropBlock: cfg.dropBlock,
    dropBlockSize: cfg.dropBlockSize,
  };
  const isBackbone = !NATIVE_MODELS.has(cfg.model) && listBackbones().includes(cfg.model);
  if (!isBackbone) {
    if (cfg.pretrained || cfg.freeze !== 'none' || cfg.finetuneLr > 0) {
      throw new ConfigError(
        `--pretrained, --freeze and --finetune-lr need a backbone model (${listBackbones()
          .filter((b) => !NATIVE_MODELS.has(b))
          .join(', ')}), not '${cfg.model}'`,
      );
    }
    return { model: createClassifier(cfg.model, spec), stages: null as FeatureInfo[] | null };
  }
  if (cfg.widthMult !== 1 && !listReferenceBackbones().includes(cfg.model))
    throw new ConfigError(`--width-mult is for the reference architectures (${listReferenceBackbones().join(', ')}), not '${cfg.model}'`);
  const { model, stages } = backboneClassifier(cfg.model, { ...spec, bn: cfg.bn, widthMult: cfg.widthMult });
  if (cfg.freeze !== 'none') freezeUpTo(model, stages, cfg.freeze); // validates the stage name up front
  if (cfg.pretrained && !resume) {
    const report = await loadPretrained(model, cfg.model, cfg.pretrained === true ? true : cfg.pretrained);
    const skipped = report.skipped.map((s) => `${s.layer} (${s.reason})`).join('; ');
    if (log) console.log(`pretrained: ${report.loaded.length} layers loaded from ${report.source}${skipped ? `; kept initialised: ${skipped}` : ''}`);
  }
  return { model, stages };
}

export interface ClassifyOutcome {
  cfg: ClassifyTrainConfig;
  runDir: string;
  model: tf.LayersModel;
  report: Awaited<ReturnType<typeof writeClassificationReport>>;
  trainSeconds: number;
  datasetName: string;
  split: string;
}

/**
 * Image classification as a job: data (fixed test split, seeded validation hold-out), a classifier (the
 * classic CNNs or a registry backbone with freeze phases and per-group learning rates), cross-entropy with
 * mixup / CutMix / label smoothing / L2, per-epoch validation, and the test report.
 */
export const classifyTask: TaskDefinition<typeof ClassifyTrainSchema, PreparedData, TensorBatch, ClassifyOutcome> = {
  command: 'classify:train',
  root: 'runs/classify',
  schema: ClassifyTrainSchema,
  data: ({ cfg }) => prepareData(cfg),
  describeData: ({ dataset, train, val }) =>
    `data: ${dataset.name} train=${train.labels.length} val=${val?.labels.length ?? 0} test=${dataset.test.labels.length} (${dataset.splitDescription})`,
  async build({ train, val }, { cfg, resume, main, initialModel }) {
    const { model, stages } = initialModel ? { model: initialModel, stages: null } : await buildModel(cfg, train.shape, train.classNames.length, resume, main);
    const augment = {
      cropPadding: cfg.cropPadding,
      flip: cfg.flip,
      rotate: cfg.rotate,
      scale: cfg.scale,
      translate: cfg.translate,
      brightness: cfg.brightness,
      contrast: cfg.contrast,
    };
    const plan = planFinetune(cfg, model, stages, () => makeOptimizer(cfg));
    const task = new ClassificationTask(
      model,
      plan.optimizers.optimizer ?? Object.values(plan.optimizers)[0],
      new DataLoader(train, { batchSize: cfg.batchSize, shuffle: true, augment }),
      {
        optimizers: plan.optimizers,
        groupsForEpoch: plan.groupsForEpoch,
        seed: cfg.seed,
        clipNorm: cfg.clipNorm,
        accumulate: cfg.accumulate,
        regularization: { labelSmoothing: cfg.labelSmoothing, mixup: cfg.mixup, cutmix: cfg.cutmix, l2: cfg.l2, weightDecay: cfg.weightDecay },
      },
    );
    const phases = plan.summary;
    return {
      task,
      summary: `model: ${cfg.model} (${model.countParams().toLocaleString('en')} parameters)${phases}`,
      best: { monitor: val ? 'val_accuracy' : 'accuracy' },
      stopMonitor: val ? 'val_loss' : 'loss',
      emaModels: ['model'],
      validator: val && main ? new ClassificationValidator(val) : undefined,
      lrScales: plan.lrScales,
    };
  },
  async finish({ cfg, runDir, data: { dataset, train }, fit, models, backend }) {
    const model = models.model; // the EMA weights when --ema is on
    const crop = referenceCrop(cfg.model, cfg.imageSize);
    const metadata: ClassifierMetadata = {
      task: 'classify',
      classNames: train.classNames,
      inputShape: train.shape,
      dataset: dataset.name,
      model: cfg.model,
      ...(crop ? { preprocess: crop } : {}),
    };
    await saveModel(model, path.join(runDir, 'model'), metadata as unknown as Record<string, unknown>);
    const report = await writeClassificationReport(model, dataset.test, runDir, {
      trainAccuracy: (await evaluateClassifier(model, train, 10000)).accuracy,
      backend: backend.name,
      epochs: fit.epochsDone,
      trainSeconds: fit.trainSeconds,
      dataset: dataset.name,
      model: cfg.model,
      split: dataset.splitDescription,
    });
    console.log(
      `test accuracy: ${(100 * report.accuracy).toFixed(2)} % on ${report.testImages} images; train accuracy ${(100 * (report.trainAccuracy ?? 0)).toFixed(2)} % (train ${fit.trainSeconds.toFixed(0)} s)`,
    );
    console.log(`report: ${path.join(runDir, 'report.md')}  model: ${path.join(runDir, 'model')}`);
    return { cfg, runDir, model, report, trainSeconds: fit.trainSeconds, datasetName: dataset.name, split: dataset.splitDescription };
  },
};
