import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { type ClassificationSet, loadMnist } from '@cv/data';
import { ConfigError, Rng } from '@cv/engine';
import { padSequences, type SequenceSet } from './sequences';

export const BUILTIN_SEQUENCES = ['mnist-rows', 'mnist-pixels'] as const;

/**
 * Sequential MNIST from the suite's MNIST split (the last 100 images of each class are test): each image read
 * as 28 steps of 28 values (`rows`) or as 784 steps of one value (`pixels`); `permute` applies one seeded
 * permutation of the 784 pixel positions to every image (the harder "permuted pixel MNIST").
 */
export function mnistSequences(mode: 'rows' | 'pixels', permute = false): { train: SequenceSet; test: SequenceSet; description: string } {
  const { train, test } = loadMnist();
  const order = permute ? (new Rng(1234).shuffle(Array.from({ length: 784 }, (_, i) => i)) as number[]) : null;
  const convert = (set: ClassificationSet): SequenceSet => {
    const n = set.labels.length;
    const x = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) for (let j = 0; j < 784; j++) x[i * 784 + j] = set.images[i * 784 + (order ? order[j] : j)] / 255;
    const [steps, features] = mode === 'rows' ? [28, 28] : [784, 1];
    return { x, lengths: new Int32Array(n).fill(steps), steps, features, labels: Int32Array.from(set.labels), classNames: set.classNames };
  };
  const name = mode === 'rows' ? 'MNIST rows (28 steps × 28)' : `${permute ? 'permuted ' : ''}MNIST pixels (784 steps × 1)`;
  return { train: convert(train), test: convert(test), description: `${name}; the last 100 images of each class are test` };
}

function readCsv(file: string): string[][] {
  try {
    return parse(fs.readFileSync(file, 'utf8'), { relax_column_count: true, skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new ConfigError(`'${file}' is not a readable CSV file (${(e as Error).message.split('\n')[0]})`);
  }
}

function numberAt(cell: string, where: string): number {
  const v = Number(cell);
  if (cell === '' || !Number.isFinite(v))
    throw new ConfigError(`${where}: '${cell}' is not a number; sequence values must be numbers (leave trailing cells empty for shorter sequences)`);
  return v;
}

/**
 * Reads users' own series:
 * - one CSV file, one row per sequence: a header naming the label column (`--label-column`, default `label`);
 *   the other cells of a row are the sequence's values, one feature per step; shorter sequences leave
 *   trailing cells empty;
 * - a folder of CSV files, one sequence per file: each row a time step, the columns its features, the label
 *   column (same value on every row) naming the class.
 * Without the label column (`requireLabel: false`, for predict) every column is a value and labels are null.
 */
export function readCsvSequences(
  source: string,
  labelColumn = 'label',
  requireLabel = true,
): { values: number[][][]; labels: string[] | null; files: string[] } {
  if (!fs.existsSync(source)) throw new ConfigError(`'${source}' is neither a built-in (${BUILTIN_SEQUENCES.join(', ')}) nor an existing CSV file or folder`);
  const values: number[][][] = [];
  const labels: string[] = [];
  const files: string[] = [];
  const labelIndex = (header: string[] | undefined, file: string) => {
    const li = header?.indexOf(labelColumn) ?? -1;
    if (li < 0 && requireLabel)
      throw new ConfigError(`'${file}' has no '${labelColumn}' column in its header (${header?.slice(0, 5).join(', ')}); pass --label-column <name>`);
    return li;
  };
  if (fs.statSync(source).isDirectory()) {
    const names = fs
      .readdirSync(source)
      .filter((f) => f.toLowerCase().endsWith('.csv'))
      .sort();
    if (!names.length) throw new ConfigError(`folder '${source}' holds no .csv files; put one sequence per CSV file`);
    for (const f of names) {
      const file = path.join(source, f);
      const [header, ...rows] = readCsv(file);
      const li = labelIndex(header, file);
      if (!rows.length) throw new ConfigError(`'${file}' has a header but no steps`);
      values.push(rows.map((r, i) => r.filter((_, j) => j !== li).map((c) => numberAt(c, `'${file}' line ${i + 2}`))));
      labels.push(li >= 0 ? rows[0][li] : '');
      files.push(file);
    }
  } else {
    const [header, ...rows] = readCsv(source);
    const li = labelIndex(header, source);
    rows.forEach((r, i) => {
      const cells = r.filter((_, j) => j !== li);
      while (cells.length && cells[cells.length - 1] === '') cells.pop();
      if (!cells.length) throw new ConfigError(`'${source}' line ${i + 2}: a sequence needs at least one value`);
      values.push(cells.map((c) => [numberAt(c, `'${source}' line ${i + 2}`)]));
      labels.push(li >= 0 ? r[li] : '');
      files.push(`${source}:${i + 2}`);
    });
  }
  const features = values[0]?.[0]?.length ?? 0;
  values.forEach((s, i) => {
    const bad = s.find((v) => v.length !== features);
    if (bad) throw new ConfigError(`sequence ${i + 1} of '${source}' (${files[i]}) has steps with ${bad.length} features, the first has ${features}`);
  });
  return { values, labels: requireLabel || labels.some((l) => l) ? labels : null, files };
}

/** A labelled SequenceSet from a CSV source (see readCsvSequences), padded to the longest and masked. */
export function loadCsvSequences(source: string, labelColumn = 'label', classNames?: string[]): SequenceSet {
  const { values, labels } = readCsvSequences(source, labelColumn);
  const names = classNames ?? [...new Set(labels!)].sort();
  const index = new Map(names.map((n, i) => [n, i]));
  const y = labels!.map((l, i) => {
    const k = index.get(l);
    if (k === undefined) throw new ConfigError(`sequence ${i + 1} of '${source}' has label '${l}', not one of the model's classes (${names.join(', ')})`);
    return k;
  });
  if (names.length < 2) throw new ConfigError(`'${source}' holds one class only (${names[0]}); a classifier needs two or more`);
  return { ...padSequences(values, values[0][0].length), labels: Int32Array.from(y), classNames: names };
}
