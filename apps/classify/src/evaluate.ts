import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import type { ClassificationSet } from '@cv/data';
import {
  accuracy, argmaxRows, classificationMarkdown, classificationReport, confusionMatrix,
  plotConfusionMatrix, plotTrainingCurves, topKAccuracy, writeReport,
} from '@cv/metrics';
import { predictProbs } from '@cv/tasks-classify';

export interface EvaluationInfo {
  /** Accuracy on (up to 10,000 of) the training images in inference mode, for the train–test gap. */
  trainAccuracy?: number;
  backend: string;
  epochs: number;
  trainSeconds?: number;
  dataset: string;
  model: string;
  split: string;
}

/** Reads the per-epoch history of a run (metrics.jsonl), or [] if there is none. */
export function readHistory(runDir: string): Record<string, number>[] {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Accuracy of a classifier on (up to `limit` of) a set, in inference mode. */
export function setAccuracy(model: tf.LayersModel, set: ClassificationSet, limit = 10000): number {
  const n = Math.min(limit, set.labels.length);
  const size = set.shape[0] * set.shape[1] * set.shape[2];
  const x = Float32Array.from(set.images.subarray(0, n * size), (v) => v / 255);
  const preds = argmaxRows(predictProbs(model, x, set.shape), set.classNames.length);
  return accuracy(set.labels.subarray(0, n), preds);
}

/**
 * Evaluates a classifier on a held-out set and writes report.json, report.md and
 * plots/{training_curves,confusion_matrix}.{svg,png} into `runDir`.
 */
export async function evaluateAndReport(model: tf.LayersModel, test: ClassificationSet, runDir: string, info: EvaluationInfo) {
  const started = performance.now();
  const x = Float32Array.from(test.images, (v) => v / 255);
  const k = test.classNames.length;
  const probs = predictProbs(model, x, test.shape);
  const preds = argmaxRows(probs, k);
  const cm = confusionMatrix(test.labels, preds, k);
  const report = classificationReport(cm, test.classNames);
  const acc = accuracy(test.labels, preds);
  const top5 = topKAccuracy(test.labels, probs, k, Math.min(5, k));
  const evalSeconds = (performance.now() - started) / 1000;
  const json = {
    accuracy: acc,
    top5Accuracy: top5,
    trainAccuracy: info.trainAccuracy ?? null,
    backend: info.backend,
    epochs: info.epochs,
    trainSeconds: info.trainSeconds ?? null,
    dataset: info.dataset,
    split: info.split,
    model: info.model,
    testImages: test.labels.length,
    macro: report.macro,
    weighted: report.weighted,
    perClass: report.perClass,
    confusionMatrix: cm,
    evalSeconds,
    date: new Date().toISOString(),
  };
  const md = classificationMarkdown(`Classification report — ${info.model} on ${info.dataset}`, report, {
    'top-5 accuracy': `${(100 * top5).toFixed(2)} %`,
    'test images': test.labels.length,
    split: info.split,
    backend: info.backend,
    epochs: info.epochs,
    'train seconds': info.trainSeconds?.toFixed(1) ?? 'n/a',
  }) + '\n![training curves](plots/training_curves.png)\n\n![confusion matrix](plots/confusion_matrix.png)\n';
  writeReport(runDir, json, md);
  const history = readHistory(runDir);
  if (history.length) await plotTrainingCurves(history, path.join(runDir, 'plots', 'training_curves'));
  await plotConfusionMatrix(cm, test.classNames, path.join(runDir, 'plots', 'confusion_matrix'));
  return json;
}
