import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { type EpochValidator, type InferenceModel, type Logs, readHistory } from '@cv/engine';
import { classificationMarkdown, classificationReport, confusionMatrix, plotConfusionMatrix, plotTrainingCurves, writeReport } from '@cv/metrics';
import { type SequenceSet, sequenceInputs } from './sequences';

export interface SequenceEvaluation {
  loss: number;
  accuracy: number;
  confusionMatrix: number[][];
  sequences: number;
  seconds: number;
}

/** Scores a sequence classifier on a labelled set, in inference mode, in batches. */
export async function evaluateSequenceModel(model: InferenceModel, set: SequenceSet, batchSize = 256): Promise<SequenceEvaluation> {
  const t0 = performance.now();
  const n = set.labels.length;
  const k = set.classNames.length;
  const pred = new Int32Array(n);
  let loss = 0;
  for (let i = 0; i < n; i += batchSize) {
    const to = Math.min(n, i + batchSize);
    const inputs = sequenceInputs(set, i, to);
    const probs = model.predict(inputs) as tf.Tensor;
    const p = await probs.data(); // asynchronous: a GPU backend has no synchronous read in Node
    tf.dispose([probs, ...inputs]);
    for (let j = 0; j < to - i; j++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (p[j * k + c] > p[j * k + best]) best = c;
      pred[i + j] = best;
      loss -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, p[j * k + set.labels[i + j]])));
    }
  }
  const correct = pred.reduce((s, v, i) => s + (v === set.labels[i] ? 1 : 0), 0);
  return {
    loss: loss / n,
    accuracy: correct / n,
    confusionMatrix: confusionMatrix(set.labels, pred, k),
    sequences: n,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Per-epoch `val_loss` / `val_accuracy` on a held-out set. */
export class SequenceValidator implements EpochValidator {
  constructor(readonly set: SequenceSet) {}

  async validate(models: Record<string, tf.LayersModel>): Promise<Logs> {
    const r = await evaluateSequenceModel(models.model, this.set);
    return { val_loss: r.loss, val_accuracy: r.accuracy };
  }
}

export interface SequenceReportInfo {
  dataset: string;
  model: string;
  backend: string;
  epochs: number;
  trainSeconds?: number;
}

/** report.json / report.md / plots of a test evaluation into `dir`. */
export async function writeSequenceReport(model: InferenceModel, test: SequenceSet, dir: string, info: SequenceReportInfo, evaluation?: SequenceEvaluation) {
  const r = evaluation ?? (await evaluateSequenceModel(model, test));
  const report = classificationReport(r.confusionMatrix, test.classNames);
  const json = {
    accuracy: r.accuracy,
    loss: r.loss,
    testSequences: r.sequences,
    steps: test.steps,
    features: test.features,
    ...info,
    macro: report.macro,
    perClass: report.perClass,
    confusionMatrix: r.confusionMatrix,
    date: new Date().toISOString(),
  };
  const md =
    classificationMarkdown(`Sequence classification — ${info.model} on ${info.dataset}`, report, {
      'test sequences': r.sequences,
      'steps × features': `${test.steps} × ${test.features}`,
      backend: info.backend,
      epochs: info.epochs,
    }) + '\n![confusion matrix](plots/confusion_matrix.png)\n';
  writeReport(dir, json, md);
  const history = readHistory(dir);
  if (history.length) await plotTrainingCurves(history, path.join(dir, 'plots', 'training_curves'));
  await plotConfusionMatrix(r.confusionMatrix, test.classNames, path.join(dir, 'plots', 'confusion_matrix'));
  return json;
}
