import * as tf from '@tensorflow/tfjs';
import path from 'node:path';
import { ConfigError, deriveSeed, Rng, saveModel, type TaskDefinition } from '@cv/engine';
import { type SequenceTrainConfig, SequenceTrainSchema } from './config';
import { BUILTIN_SEQUENCES, loadCsvSequences, mnistSequences } from './data';
import { createSequenceModel } from './models';
import type { SequenceMetadata } from './predictor';
import { type SequenceSet, subsetSequences } from './sequences';
import { SequenceLoader, SequenceTask } from './step';
import { evaluateSequenceModel, SequenceValidator, writeSequenceReport } from './validator';

export interface SequenceData {
  train: SequenceSet;
  val: SequenceSet | null;
  test: SequenceSet;
  name: string;
  description: string;
}

/** A seeded, stratified split of `set`: `fraction` of each class to the second part. */
function stratified(set: SequenceSet, fraction: number, seed: number, label: string): [number[], number[]] {
  const rng = new Rng(deriveSeed(seed, label));
  const byClass: number[][] = set.classNames.map(() => []);
  set.labels.forEach((c, i) => byClass[c].push(i));
  const a: number[] = [];
  const b: number[] = [];
  for (const idx of byClass) {
    const held = new Set(rng.shuffle([...idx]).slice(0, Math.round(idx.length * fraction)));
    for (const i of idx) (held.has(i) ? b : a).push(i);
  }
  return [a.sort((x, y) => x - y), b.sort((x, y) => x - y)];
}

/** The run's sequences: a built-in split or a CSV source split into train / test; then validation and the train limit. */
export function prepareSequenceData(
  cfg: Pick<SequenceTrainConfig, 'dataset' | 'permute' | 'labelColumn' | 'testFraction' | 'valFraction' | 'trainLimit' | 'seed'>,
): SequenceData {
  let train: SequenceSet;
  let test: SequenceSet;
  let description: string;
  if ((BUILTIN_SEQUENCES as readonly string[]).includes(cfg.dataset)) {
    if (cfg.permute && cfg.dataset !== 'mnist-pixels') throw new ConfigError('--permute applies to --dataset mnist-pixels');
    ({ train, test, description } = mnistSequences(cfg.dataset === 'mnist-rows' ? 'rows' : 'pixels', cfg.permute));
  } else {
    const all = loadCsvSequences(cfg.dataset, cfg.labelColumn);
    const [a, b] = stratified(all, cfg.testFraction, cfg.seed, 'test-split');
    if (!b.length) throw new ConfigError(`'${cfg.dataset}': --test-fraction ${cfg.testFraction} leaves no test sequences; raise it or add data`);
    train = subsetSequences(all, a);
    test = subsetSequences(all, b);
    description = `${cfg.dataset}: ${all.labels.length} sequences of up to ${all.steps} steps × ${all.features}; a seeded ${Math.round(100 * cfg.testFraction)} % per class is test`;
  }
  let val: SequenceSet | null = null;
  if (cfg.valFraction > 0) {
    const [a, b] = stratified(train, cfg.valFraction, cfg.seed, 'val-split');
    val = subsetSequences(train, b);
    train = subsetSequences(train, a);
  }
  if (cfg.trainLimit > 0 && cfg.trainLimit < train.labels.length)
    train = subsetSequences(
      train,
      Array.from({ length: cfg.trainLimit }, (_, i) => i),
    );
  const name = cfg.dataset + (cfg.permute ? ' (permuted)' : '');
  return { train, val, test, name, description };
}

/**
 * The sequences a model is scored on by `sequence:val`: the test split of the dataset its metadata names (or
 * `dataset`), split as in training (CSV: `testFraction`, `seed`), or every sequence of a CSV with `all`.
 */
export function valSequences(
  cfg: { dataset?: string; labelColumn: string; testFraction: number; seed: number; all: boolean },
  meta: { dataset?: string; classNames: string[]; features: number },
  where: string,
): { set: SequenceSet; name: string } {
  const name = cfg.dataset ?? meta.dataset?.replace(/ \(permuted\)$/, '');
  if (!name) throw new ConfigError(`'${where}' names no dataset; pass --dataset <name or csv>`);
  const permute = !cfg.dataset && !!meta.dataset?.endsWith(' (permuted)');
  const builtin = (BUILTIN_SEQUENCES as readonly string[]).includes(name);
  const split = { dataset: name, permute, labelColumn: cfg.labelColumn, testFraction: cfg.testFraction, valFraction: 0, trainLimit: 0, seed: cfg.seed };
  const set = !builtin && cfg.all ? loadCsvSequences(name, cfg.labelColumn, meta.classNames) : prepareSequenceData(split).test;
  if (set.features !== meta.features) throw new ConfigError(`'${name}' has ${set.features} feature(s) per step; the model takes ${meta.features}`);
  return { set, name };
}

export interface SequenceOutcome {
  runDir: string;
  accuracy: number;
  trainSeconds: number;
}

/** Sequence classification with 1-D CNNs (plain Conv1D stack or TCN) as a job. */
export const sequenceTask: TaskDefinition<typeof SequenceTrainSchema, SequenceData, SequenceSet, SequenceOutcome> = {
  command: 'sequence:train',
  root: 'runs/sequence',
  schema: SequenceTrainSchema,
  data: async ({ cfg }) => prepareSequenceData(cfg),
  describeData: ({ train, val, test, description }) =>
    `data: ${description}; train=${train.labels.length} val=${val?.labels.length ?? 0} test=${test.labels.length}`,
  async build({ train, val }, { cfg, main, initialModel }) {
    const model =
      initialModel ??
      createSequenceModel(cfg.model, {
        steps: train.steps,
        features: train.features,
        numClasses: train.classNames.length,
        width: cfg.width,
        kernelSize: cfg.kernelSize,
        dropout: cfg.dropout,
        seed: deriveSeed(cfg.seed, 'init'),
      });
    const task = new SequenceTask(model, tf.train.adam(cfg.lr), new SequenceLoader(train, cfg.batchSize), {
      clipNorm: cfg.clipNorm,
      accumulate: cfg.accumulate,
      weightDecay: cfg.weightDecay,
    });
    return {
      task,
      summary: `model: ${cfg.model} (${model.countParams().toLocaleString('en')} parameters, ${train.steps} steps × ${train.features})`,
      best: { monitor: val ? 'val_accuracy' : 'accuracy' },
      stopMonitor: val ? 'val_loss' : 'loss',
      emaModels: ['model'],
      validator: val && main ? new SequenceValidator(val) : undefined,
    };
  },
  async finish({ cfg, runDir, data, fit, models, backend }) {
    const model = models.model;
    const metadata: SequenceMetadata = {
      task: 'sequence',
      classNames: data.train.classNames,
      steps: data.train.steps,
      features: data.train.features,
      dataset: data.name,
      model: cfg.model,
    };
    await saveModel(model, path.join(runDir, 'model'), metadata);
    const report = await writeSequenceReport(model, data.test, runDir, {
      dataset: data.name,
      model: cfg.model,
      backend: backend.name,
      epochs: fit.epochsDone,
      trainSeconds: fit.trainSeconds,
    });
    const trainAcc = (
      await evaluateSequenceModel(
        model,
        subsetSequences(
          data.train,
          Array.from({ length: Math.min(5000, data.train.labels.length) }, (_, i) => i),
        ),
      )
    ).accuracy;
    console.log(
      `test accuracy: ${(100 * report.accuracy).toFixed(2)} % on ${report.testSequences} sequences; train accuracy ${(100 * trainAcc).toFixed(2)} % (train ${fit.trainSeconds.toFixed(0)} s)`,
    );
    console.log(`report: ${path.join(runDir, 'report.md')}  model: ${path.join(runDir, 'model')}`);
    return { runDir, accuracy: report.accuracy, trainSeconds: fit.trainSeconds };
  },
};
