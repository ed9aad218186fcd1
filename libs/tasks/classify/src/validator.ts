import type * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import type { ClassificationDataset, ClassificationSet } from '@cv/data';
import { type EpochValidator, type InferenceModel, type Logs, readHistory, unitRange } from '@cv/engine';
import {
  accuracy,
  argmaxRows,
  classificationMarkdown,
  classificationReport,
  confusionMatrix,
  plotConfusionMatrix,
  plotTrainingCurves,
  topKAccuracy,
  writeReport,
} from '@cv/metrics';
import { predictProbs } from './step';

const EPS = 1e-7;

/** Everything one evaluation of a classifier on a labelled set measures. */
export interface ClassifierEvaluation {
  /** Mean cross-entropy (probabilities clipped to [1e-7, 1 − 1e-7], as the training loss). */
  loss: number;
  accuracy: number;
  top5Accuracy: number;
  confusionMatrix: number[][];
  images: number;
  seconds: number;
}

/**
 * Evaluates a classifier on (up to `limit` of) a set, in inference mode: the one function behind the
 * per-epoch validation, the final test report and `classify:val`.
 */
export async function evaluateClassifier(model: InferenceModel, set: ClassificationSet, limit = Infinity): Promise<ClassifierEvaluation> {
  const started = performance.now();
  const n = Math.min(limit, set.labels.length);
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const k = set.classNames.length;
  const labels = set.labels.subarray(0, n);
  const probs = await predictProbs(model, unitRange(set.images.subarray(0, n * size)), set.shape);
  let loss = 0;
  for (let i = 0; i < n; i++) loss -= Math.log(Math.min(1 - EPS, Math.max(EPS, probs[i * k + labels[i]])));
  const preds = argmaxRows(probs, k);
  return {
    loss: loss / Math.max(1, n),
    accuracy: accuracy(labels, preds),
    top5Accuracy: topKAccuracy(labels, probs, k, Math.min(5, k)),
    confusionMatrix: confusionMatrix(labels, preds, k),
    images: n,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Per-epoch validation of the job: `val_loss` and `val_accuracy` of `model` (the EMA one when on) on a held-out set. */
export class ClassificationValidator implements EpochValidator {
  constructor(
    readonly set: ClassificationSet,
    readonly modelName = 'model',
  ) {}

  async validate(models: Record<string, tf.LayersModel>): Promise<Logs> {
    const r = await evaluateClassifier(models[this.modelName], this.set);
    return { val_loss: r.loss, val_accuracy: r.accuracy };
  }
}

export interface ReportInfo {
  backend: string;
  epochs: number;
  trainSeconds?: number;
  dataset: string;
  model: string;
  split: string;
  /** Accuracy on (up to 10,000 of) the training images in inference mode, for the train–test gap. */
  trainAccuracy?: number;
}

/** The report JSON of one evaluation (what classify:val and the training report write). */
export function classificationJson(r: ClassifierEvaluation, test: ClassificationSet, info: ReportInfo) {
  const report = classificationReport(r.confusionMatrix, test.classNames);
  return {
    accuracy: r.accuracy,
    top5Accuracy: r.top5Accuracy,
    loss: r.loss,
    trainAccuracy: info.trainAccuracy ?? null,
    backend: info.backend,
    epochs: info.epochs,
    trainSeconds: info.trainSeconds ?? null,
    dataset: info.dataset,
    split: info.split,
    model: info.model,
    testImages: r.images,
    macro: report.macro,
    weighted: report.weighted,
    perClass: report.perClass,
    confusionMatrix: r.confusionMatrix,
    evalSeconds: r.seconds,
    date: new Date().toISOString(),
  };
}

/**
 * Evaluates a classifier on the test set and writes report.json, report.md and
 * plots/{training_curves,confusion_matrix}.{svg,png} into `runDir`.
 */
export async function writeClassificationReport(
  model: InferenceModel,
  test: ClassificationSet,
  runDir: string,
  info: ReportInfo,
  given?: ClassifierEvaluation,
) {
  const r = given ?? (await evaluateClassifier(model, test));
  const report = classificationReport(r.confusionMatrix, test.classNames);
  const json = classificationJson(r, test, info);
  const md =
    classificationMarkdown(`Classification report — ${info.model} on ${info.dataset}`, report, {
      'top-5 accuracy': `${(100 * r.top5Accuracy).toFixed(2)} %`,
      'test images': r.images,
      split: info.split,
      backend: info.backend,
      epochs: info.epochs,
      'train seconds': info.trainSeconds?.toFixed(1) ?? 'n/a',
    }) + '\n![training curves](plots/training_curves.png)\n\n![confusion matrix](plots/confusion_matrix.png)\n';
  writeReport(runDir, json, md);
  const history = readHistory(runDir);
  if (history.length) await plotTrainingCurves(history, path.join(runDir, 'plots', 'training_curves'));
  await plotConfusionMatrix(r.confusionMatrix, test.classNames, path.join(runDir, 'plots', 'confusion_matrix'));
  return json;
}

/** The report header of `classify:val`: the data scored, the runtime, and the run's epochs when it is a run. */
export const classifyReportInfo = (
  { dataset, args }: { dataset: ClassificationDataset; args: { model: string } },
  { cfg, runtime }: { cfg: { run?: string }; runtime: string },
): ReportInfo => ({
  backend: runtime,
  epochs: cfg.run ? readHistory(cfg.run).length : 0,
  dataset: dataset.name,
  model: args.model,
  split: dataset.splitDescription,
});
