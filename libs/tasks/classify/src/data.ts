import { balancedHead, type ClassificationDataset, type ClassificationSet, loadClassificationDataset, selectClasses, subset } from '@cv/data';
import { ConfigError, deriveSeed, readRunArgs, Rng } from '@cv/engine';
import { backboneDefinition, listReferenceBackbones } from '@cv/backbones';
import type { CenterCropSpec } from '@cv/engine/core';
import { type ClassifyTrainConfig, ClassifyTrainSchema } from './config';

export interface PreparedData {
  dataset: ClassificationDataset;
  train: ClassificationSet;
  val: ClassificationSet | null;
}

/**
 * How images of a folder become a reference architecture's input: torchvision's eval transform scaled to the
 * image size (shorter side to size · resize / crop, centre crop of size²). Null for the suite's own models.
 */
export function referenceCrop(model: string | undefined, imageSize: number): CenterCropSpec | null {
  if (!model || !listReferenceBackbones().includes(model)) return null;
  const { resize, crop, interpolation } = backboneDefinition(model).reference!.preprocess;
  return { resize: Math.round((imageSize * resize) / crop), crop: imageSize, interpolation };
}

/** The dataset, restricted to `classes` ("5,6,7") when given. */
export async function loadDatasetFor(
  cfg: Pick<ClassifyTrainConfig, 'dataset' | 'imageSize' | 'channels' | 'classes'> & { model?: string },
): Promise<ClassificationDataset> {
  const centerCrop = referenceCrop(cfg.model, cfg.imageSize) ?? undefined;
  if (centerCrop && cfg.channels !== 3)
    throw new ConfigError(`--model ${cfg.model} takes RGB images: add --channels 3 (and --image-size 224 for the published weights)`);
  const dataset = await loadClassificationDataset(cfg.dataset, { size: cfg.imageSize, channels: cfg.channels, centerCrop });
  if (!cfg.classes.trim()) return dataset;
  const classes = cfg.classes.split(',').map((s) => Number(s.trim()));
  if (classes.some((c) => !Number.isInteger(c)) || new Set(classes).size !== classes.length || classes.length < 2) {
    throw new ConfigError(`config key 'classes': expected at least two distinct class indices like 5,6,7, got '${cfg.classes}'`);
  }
  try {
    return {
      ...dataset,
      name: `${dataset.name}[${classes.join(',')}]`,
      train: selectClasses(dataset.train, classes),
      test: selectClasses(dataset.test, classes),
    };
  } catch (e) {
    throw new ConfigError(`config key 'classes': ${(e as Error).message}`);
  }
}

/**
 * The run's data: the dataset's fixed train/test split; `valFraction` of the training split held out
 * for validation (a seeded stratified draw, never test images); then `trainLimit` applied to what is left.
 */
export async function prepareData(
  cfg: Pick<ClassifyTrainConfig, 'dataset' | 'imageSize' | 'channels' | 'valFraction' | 'trainLimit' | 'seed' | 'classes'> & { model?: string },
): Promise<PreparedData> {
  const dataset = await loadDatasetFor(cfg);
  const full = dataset.train;
  let trainIdx: number[] = [];
  const valIdx: number[] = [];
  if (cfg.valFraction > 0) {
    const rng = new Rng(deriveSeed(cfg.seed, 'val-split'));
    const byClass: number[][] = full.classNames.map(() => []);
    full.labels.forEach((c, i) => byClass[c].push(i));
    for (const idx of byClass) {
      const held = new Set(rng.shuffle([...idx]).slice(0, Math.round(idx.length * cfg.valFraction)));
      for (const i of idx) (held.has(i) ? valIdx : trainIdx).push(i);
    }
    trainIdx.sort((a, b) => a - b);
    valIdx.sort((a, b) => a - b);
  } else {
    trainIdx = Array.from(full.labels, (_, i) => i);
  }
  let train = subset(full, trainIdx);
  if (cfg.trainLimit > 0) train = balancedHead(train, cfg.trainLimit);
  return { dataset, train, val: valIdx.length ? subset(full, valIdx) : null };
}

/** What `classify:val` scores a model on: its run's data (`--run`), else the dataset its metadata names. */
export type ValDataArgs = Pick<ClassifyTrainConfig, 'dataset' | 'imageSize' | 'channels' | 'classes' | 'model'>;

/**
 * The test split a classifier is scored on, checked against its classes: the saved config of `run` when given,
 * else the dataset, input size and channels in the model's metadata.
 */
export async function valDataset(
  run: string | undefined,
  meta: { dataset?: string; inputShape: number[]; classNames: string[]; model?: string },
  where: string,
): Promise<{ dataset: ClassificationDataset; args: ValDataArgs }> {
  let args: ValDataArgs;
  if (run) {
    const { backend: _b, kernels: _k, ...saved } = readRunArgs(run, 'classify:train');
    args = ClassifyTrainSchema.parse(saved);
  } else {
    if (!meta.dataset) throw new ConfigError(`'${where}' names no dataset in its metadata; pass --run <run dir> to score it on that run's data`);
    args = { dataset: meta.dataset, imageSize: meta.inputShape[0], channels: meta.inputShape[2] as 1 | 3, classes: '', model: meta.model ?? 'model' };
  }
  const dataset = await loadDatasetFor(args);
  if (dataset.test.classNames.length !== meta.classNames.length)
    throw new ConfigError(`'${where}' has ${meta.classNames.length} classes but ${dataset.name} has ${dataset.test.classNames.length}`);
  return { dataset, args };
}
