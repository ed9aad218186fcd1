import fs from 'node:fs';
import path from 'node:path';
import { loadClassificationDataset, writePng } from '@cv/data';
import { ConfigError, initBackend, loadModel, loadPredictor, parseArgs } from '@cv/engine';
import { DcganSampleSchema } from './config';
import { GeneratorEvaluator, type GeneratorScores } from './evaluate';
import { GanPredictor } from './predict';
import { imageGrid } from './sampling';

/** The generator folder of `--model`: the folder itself, or a run's `generator/`. */
export function generatorDir(model: string): string {
  for (const dir of [model, path.join(model, 'generator')]) if (['model.json', 'model.onnx'].some((f) => fs.existsSync(path.join(dir, f)))) return dir;
  throw new ConfigError(
    `--model '${model}' has no generator (no model.json or model.onnx in it or in its generator/ folder); pass a dcgan:train run folder or models/dcgan/<name>`,
  );
}

export interface SampleOutcome {
  images: Float32Array;
  file?: string;
  scores?: GeneratorScores;
}

/** `dcgan:sample`: draws images through the GAN Predictor, writes a grid or strip, optionally scores them. */
export async function runSampling(argv: string[]): Promise<SampleOutcome> {
  const { config: cfg } = parseArgs(DcganSampleSchema, argv);
  if (cfg.n < 1) throw new ConfigError(`--n must be at least 1 (got ${cfg.n})`);
  if (!cfg.out && !cfg.evalClassifier) throw new ConfigError('nothing to do: pass --out grid.png to write images and/or --eval-classifier <dir> to score them');
  if (cfg.evalClassifier && !fs.existsSync(path.join(cfg.evalClassifier, 'model.json'))) {
    throw new ConfigError(`--eval-classifier '${cfg.evalClassifier}' has no model.json; pass a folder written by classify:train or classify:export`);
  }
  const dir = generatorDir(cfg.model);
  const log = cfg.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  await initBackend({ log });
  let predictor;
  try {
    predictor = await loadPredictor(dir);
  } catch (e) {
    throw new ConfigError(`'${dir}' is not a DCGAN generator (${(e as Error).message})`);
  }
  if (!(predictor instanceof GanPredictor))
    throw new ConfigError(`'${dir}' is not a DCGAN generator (no dcgan metadata in model.json); pass a folder written by dcgan:train`);
  const meta = predictor.metadata;
  const k = meta.classNames.length;
  if (cfg.class !== undefined && !k)
    throw new ConfigError(`--class needs a class-conditional generator; '${dir}' is unconditional (train one with --conditional)`);
  if (cfg.class !== undefined && cfg.class >= k)
    throw new ConfigError(`--class ${cfg.class} does not exist; classes 0..${k - 1}: ${meta.classNames.join(', ')}`);
  const { images } = await predictor.sampleAsync({ n: cfg.n, seed: cfg.seed, classIndex: cfg.class, interpolate: cfg.interpolate });
  const outcome: SampleOutcome = { images };
  if (cfg.out) {
    const cols = cfg.interpolate ? cfg.n : cfg.cols || Math.ceil(Math.sqrt(cfg.n));
    const grid = imageGrid(images, meta.imageShape, cols);
    fs.mkdirSync(path.dirname(path.resolve(cfg.out)), { recursive: true });
    await writePng(cfg.out, grid.pixels, grid.shape);
    log(`wrote ${cfg.out}: ${cfg.n} ${cfg.interpolate ? 'interpolation frames' : 'samples'} (${grid.shape[1]}×${grid.shape[0]} px)`);
    outcome.file = cfg.out;
  }
  if (cfg.evalClassifier) {
    const dataset = await loadClassificationDataset(meta.dataset, { size: meta.imageShape[0], channels: meta.imageShape[2] as 1 | 3 });
    const judge = new GeneratorEvaluator(await loadModel(cfg.evalClassifier), dataset.train, dataset.test);
    const scores = await judge.scoreAsync(images);
    outcome.scores = scores;
    if (cfg.json) console.log(JSON.stringify(scores));
    else {
      log(
        `judged by ${cfg.evalClassifier} on ${cfg.n} samples: mean confidence ${scores.meanConfidence.toFixed(4)}, class entropy ${scores.classEntropy.toFixed(4)}, FID ${scores.fid.toFixed(2)} (real-vs-real floor ${scores.fidFloor.toFixed(2)})`,
      );
    }
  }
  return outcome;
}
