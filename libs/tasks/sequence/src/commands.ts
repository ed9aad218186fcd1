import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, initBackend, loadPredictor, parseArgs, runtimeKeys, writeFileAtomic } from '@cv/engine';
import { z } from 'zod';
import { BUILTIN_SEQUENCES, loadCsvSequences, readCsvSequences } from './data';
import { SequencePredictor } from './predictor';
import { prepareSequenceData } from './definition';
import { evaluateSequenceModel, writeSequenceReport } from './validator';

async function sequenceModel(model: string | undefined, command: string, options: { runtime?: 'tfjs' | 'onnx'; threads?: number }): Promise<SequencePredictor> {
  if (!model) throw new ConfigError(`${command} needs --model <dir> (a sequence:train run's model/ folder)`);
  const p = await loadPredictor(model, options);
  if (!(p instanceof SequencePredictor)) throw new ConfigError(`'${model}' is a ${p.task} model, not a sequence classifier; use ${p.task}:val`);
  return p;
}

export const SequenceValSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe("sequence classifier folder (a sequence:train run's model/)"),
  dataset: z.string().optional().describe('default: the dataset in the model metadata; its test split is scored'),
  labelColumn: z.string().default('label').describe('CSV: the column holding the class'),
  testFraction: z.number().min(0).max(0.9).default(0.2).describe('CSV: the test fraction used in training'),
  seed: z.number().int().min(0).default(0).describe('CSV: the seed used in training (the test split depends on it)'),
  all: z.boolean().default(false).describe('CSV: score every sequence (a separate test file)'),
  json: z.string().optional().describe('write the report JSON ({"accuracy", ...}) to this file'),
  out: z.string().optional().describe('folder for report.json, report.md and the confusion matrix'),
});

/** `sequence:val`: a model's accuracy on the test split of its dataset (or a given one). */
export async function runSequenceVal(argv: string[]): Promise<void> {
  const { config } = parseArgs(SequenceValSchema, argv);
  const backend = await initBackend({ log: false });
  const p = await sequenceModel(config.model, 'sequence:val', config);
  const meta = p.metadata;
  const named = config.dataset ?? meta.dataset?.replace(/ \(permuted\)$/, '');
  if (!named) throw new ConfigError(`'${config.model}' names no dataset; pass --dataset <name or csv>`);
  const permute = !config.dataset && !!meta.dataset?.endsWith(' (permuted)');
  const builtin = (BUILTIN_SEQUENCES as readonly string[]).includes(named);
  const set =
    !builtin && config.all
      ? loadCsvSequences(named, config.labelColumn, meta.classNames)
      : prepareSequenceData({
          dataset: named,
          permute,
          labelColumn: config.labelColumn,
          testFraction: config.testFraction,
          valFraction: 0,
          trainLimit: 0,
          seed: config.seed,
        }).test;
  if (set.features !== meta.features) throw new ConfigError(`'${named}' has ${set.features} feature(s) per step; the model takes ${meta.features}`);
  const info = { dataset: named, model: meta.model ?? 'model', backend: backend.name, epochs: 0 };
  const report = config.out
    ? await writeSequenceReport(p.model, set, config.out, info)
    : { ...evaluateSequenceModel(p.model, set), testSequences: set.labels.length, ...info };
  if (config.json) writeFileAtomic(config.json, JSON.stringify(report, null, 2));
  console.log(`test accuracy: ${(100 * report.accuracy).toFixed(2)} % on ${set.labels.length} sequences of ${named}`);
}

export const SequencePredictSchema = z.object({
  ...runtimeKeys,
  model: z.string().optional().describe('sequence classifier folder'),
  labelColumn: z.string().default('label').describe('CSV: a label column to ignore (and compare with) when present'),
  json: z.boolean().default(false).describe('print a JSON array instead of lines'),
  topK: z.number().int().positive().default(3).describe('classes listed per sequence with --json'),
});

/** `sequence:predict`: sequences in CSV files (one per row, or a folder of one-sequence files) → classes. */
export async function runSequencePredict(argv: string[]): Promise<void> {
  const { config, positionals } = parseArgs(SequencePredictSchema, argv, { allowPositionals: true });
  if (!positionals.length) throw new ConfigError('sequence:predict needs a CSV file or folder after the options');
  await initBackend({ log: false });
  const p = await sequenceModel(config.model, 'sequence:predict', config);
  const rows: { source: string; label: string; probability: number; truth?: string; topK: unknown }[] = [];
  for (const source of positionals) {
    if (!fs.existsSync(source)) throw new ConfigError(`'${source}' does not exist; pass a CSV file or a folder of CSV files`);
    const { values, labels, files } = readCsvSequences(source, config.labelColumn, false);
    p.predict(values, config.topK).forEach((r, i) =>
      rows.push({ source: files[i], label: r.label, probability: r.probability, ...(labels ? { truth: labels[i] } : {}), topK: r.topK }),
    );
  }
  if (config.json) console.log(JSON.stringify(rows, null, 2));
  else
    rows.forEach((r) =>
      console.log(`${path.normalize(r.source)}\t${r.label}\t${r.probability.toFixed(4)}${r.truth !== undefined ? `\t(label ${r.truth})` : ''}`),
    );
}
