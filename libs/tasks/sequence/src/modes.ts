import path from 'node:path';
import { type PredictDefinition, type TaskModes, type ValDefinition } from '@cv/engine';
import { z } from 'zod';
import { SequenceTrainSchema } from './config';
import { readCsvSequences } from './data';
import { sequenceTask, valSequences } from './definition';
import { registerSequenceLayers } from './layers';
import './predict'; // registers the sequence Predictor for loadPredictor
import type { SequencePrediction, SequencePredictor } from './predictor';
import { registerSequenceStockRewrites } from './stock-layers';
import { evaluateSequenceModel, type SequenceEvaluation, writeSequenceReport } from './validator';

// The CSV split keys are training's (same defaults): pass the run's values to score its test split.
const ValSchema = SequenceTrainSchema.pick({ labelColumn: true, testFraction: true, seed: true }).extend({
  dataset: z.string().optional().describe('default: the dataset in the model metadata; its test split is scored'),
  all: z.boolean().default(false).describe('CSV: score every sequence (a separate test file)'),
});
type ValData = ReturnType<typeof valSequences>;
const info = ({ name }: ValData, { predictor, runtime }: { predictor: SequencePredictor; runtime: string }) => ({
  dataset: name,
  model: predictor.metadata.model ?? 'model',
  backend: runtime,
  epochs: 0,
});

/** `sequence:val`: a model's accuracy on the test split of its dataset (or a given one). */
export const sequenceVal: ValDefinition<typeof ValSchema, SequencePredictor, ValData, SequenceEvaluation> = {
  command: 'sequence:val',
  task: 'sequence',
  schema: ValSchema,
  data: ({ cfg, predictor }) => valSequences(cfg, predictor.metadata, cfg.model!),
  evaluate: ({ set }, { predictor }) => evaluateSequenceModel(predictor.model, set),
  lines: (r, { name }) => [`test accuracy: ${(100 * r.accuracy).toFixed(2)} % on ${r.sequences} sequences of ${name}`],
  json: (r, d, ctx) => ({ accuracy: r.accuracy, loss: r.loss, testSequences: r.sequences, confusionMatrix: r.confusionMatrix, ...info(d, ctx) }),
  async report(dir, r, d, ctx) {
    await writeSequenceReport(ctx.predictor.model, d.set, dir, info(d, ctx), r);
    return `report → ${path.join(dir, 'report.md')}`;
  },
};

const PredictSchema = SequenceTrainSchema.pick({ labelColumn: true }).extend({
  top: z.number().int().positive().default(3).describe('classes listed per sequence with --json'),
});
type Csv = ReturnType<typeof readCsvSequences>;

/** `sequence:predict`: sequences in CSV files (one per row, or a folder of one-sequence files) → classes. */
export const sequencePredict: PredictDefinition<typeof PredictSchema, SequencePredictor, Csv, SequencePrediction[]> = {
  command: 'sequence:predict',
  task: 'sequence',
  schema: PredictSchema,
  noun: 'CSV file',
  read: (source, { cfg }) => readCsvSequences(source, cfg.labelColumn, false),
  predict: (inputs, { predictor, cfg }) => Promise.all(inputs.map((csv) => predictor.predictAsync(csv.values, cfg.top))),
  rows: (_source, out, csv) => out.map(({ label, probability, topK }, i) => ({ source: csv.files[i], label, probability, truth: csv.labels?.[i], topK })),
  line: (r) => `${path.normalize(String(r.source))}\t${r.label}\t${(r.probability as number).toFixed(4)}${r.truth !== undefined ? `\t(label ${r.truth})` : ''}`,
  summary: (rows) => `${rows.length} sequences`,
};

/** The sequence task in every mode (`apps/sequence`: `runMode(sequence, 'val')`). */
export const sequence: TaskModes = {
  name: 'sequence',
  setup() {
    registerSequenceLayers();
    registerSequenceStockRewrites();
  },
  train: sequenceTask,
  val: sequenceVal,
  predict: sequencePredict,
  prune: true,
  usage: { train: 'nx run sequence:train -- --dataset mnist-rows|mnist-pixels|<csv> --model conv1d|tcn --epochs N --out <runDir>' },
};
