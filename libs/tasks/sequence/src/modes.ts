import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type PredictDefinition, type TaskModes, type ValDefinition } from '@cv/engine';
import { z } from 'zod';
import { BUILTIN_SEQUENCES, loadCsvSequences, readCsvSequences } from './data';
import { sequenceTask, prepareSequenceData } from './definition';
import { registerSequenceLayers } from './layers';
import { registerSequenceStockRewrites } from './stock-layers';
import './predict'; // registers the sequence Predictor for loadPredictor
import type { SequencePrediction, SequencePredictor } from './predictor';
import type { SequenceSet } from './sequences';
import { evaluateSequenceModel, type SequenceEvaluation, writeSequenceReport } from './validator';

const ValSchema = z.object({
  dataset: z.string().optional().describe('default: the dataset in the model metadata; its test split is scored'),
  labelColumn: z.string().default('label').describe('CSV: the column holding the class'),
  testFraction: z.number().min(0).max(0.9).default(0.2).describe('CSV: the test fraction used in training'),
  seed: z.number().int().min(0).default(0).describe('CSV: the seed used in training (the test split depends on it)'),
  all: z.boolean().default(false).describe('CSV: score every sequence (a separate test file)'),
});

/** `sequence:val`: a model's accuracy on the test split of its dataset (or a given one). */
export const sequenceVal: ValDefinition<typeof ValSchema, SequencePredictor, { set: SequenceSet; name: string }, SequenceEvaluation> = {
  command: 'sequence:val',
  task: 'sequence',
  schema: ValSchema,
  data({ cfg, predictor }) {
    const meta = predictor.metadata;
    const name = cfg.dataset ?? meta.dataset?.replace(/ \(permuted\)$/, '');
    if (!name) throw new ConfigError(`'${cfg.model}' names no dataset; pass --dataset <name or csv>`);
    const permute = !cfg.dataset && !!meta.dataset?.endsWith(' (permuted)');
    const builtin = (BUILTIN_SEQUENCES as readonly string[]).includes(name);
    const split = { dataset: name, permute, labelColumn: cfg.labelColumn, testFraction: cfg.testFraction, valFraction: 0, trainLimit: 0, seed: cfg.seed };
    const set = !builtin && cfg.all ? loadCsvSequences(name, cfg.labelColumn, meta.classNames) : prepareSequenceData(split).test;
    if (set.features !== meta.features) throw new ConfigError(`'${name}' has ${set.features} feature(s) per step; the model takes ${meta.features}`);
    return { set, name };
  },
  evaluate: ({ set }, { predictor }) => evaluateSequenceModel(predictor.model, set),
  lines: (r, { name }) => [`test accuracy: ${(100 * r.accuracy).toFixed(2)} % on ${r.sequences} sequences of ${name}`],
  json: (r, d, ctx) => ({ accuracy: r.accuracy, loss: r.loss, testSequences: r.sequences, confusionMatrix: r.confusionMatrix, ...info(d.name, ctx) }),
  async report(dir, r, d, ctx) {
    await writeSequenceReport(ctx.predictor.model, d.set, dir, info(d.name, ctx), r);
    return `report → ${path.join(dir, 'report.md')}`;
  },
};

const info = (dataset: string, { predictor, runtime }: { predictor: SequencePredictor; runtime: string }) => ({
  dataset,
  model: predictor.metadata.model ?? 'model',
  backend: runtime,
  epochs: 0,
});

const PredictSchema = z.object({
  labelColumn: z.string().default('label').describe('CSV: a label column to ignore (and compare with) when present'),
  topK: z.number().int().positive().default(3).describe('classes listed per sequence with --json'),
});

type CsvInput = ReturnType<typeof readCsvSequences>;

/** `sequence:predict`: sequences in CSV files (one per row, or a folder of one-sequence files) → classes. */
export const sequencePredict: PredictDefinition<typeof PredictSchema, SequencePredictor, CsvInput, SequencePrediction[]> = {
  command: 'sequence:predict',
  task: 'sequence',
  schema: PredictSchema,
  noun: 'CSV file',
  list(source) {
    if (!fs.existsSync(source)) throw new ConfigError(`'${source}' does not exist; pass a CSV file or a folder of CSV files`);
    return [source];
  },
  read: (source, { cfg }) => readCsvSequences(source, cfg.labelColumn, false),
  predict: (inputs, { predictor, cfg }) => inputs.map((csv) => predictor.predict(csv.values, cfg.topK)),
  rows: (_source, predictions, csv) =>
    predictions.map((r, i) => ({
      source: csv.files[i],
      label: r.label,
      probability: r.probability,
      ...(csv.labels ? { truth: csv.labels[i] } : {}),
      topK: r.topK,
    })),
  line: (r) => `${path.normalize(String(r.source))}\t${r.label}\t${(r.probability as number).toFixed(4)}${r.truth !== undefined ? `\t(label ${r.truth})` : ''}`,
  summary: (rows) => `${rows.length} sequences`,
};

/** The sequence task in every mode (`apps/sequence`: `runMode(sequence, 'val')`). */
export const sequence: TaskModes = {
  name: 'sequence',
  setup: () => {
    registerSequenceLayers();
    registerSequenceStockRewrites();
  },
  train: sequenceTask,
  val: sequenceVal,
  predict: sequencePredict,
  prune: true,
  usage: {
    train: 'nx run sequence:train -- --dataset mnist-rows|mnist-pixels|<csv> --model conv1d|tcn --epochs N --out <runDir>',
    val: 'nx run sequence:val -- --model <dir> [--dataset <name or csv>] [--json out.json] [--out <dir>]',
    predict: 'nx run sequence:predict -- --model <dir> <file.csv | folder> [--json]',
  },
};
