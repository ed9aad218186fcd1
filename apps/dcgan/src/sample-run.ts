import fs from 'node:fs';
import path from 'node:path';
import { loadClassificationDataset, writePng } from '@cv/data';
import { ConfigError, deriveSeed, initBackend, loadModel, parseArgs } from '@cv/engine';
import {
  type DcganSampleConfig, DcganSampleSchema, generateImages, GeneratorEvaluator, type GeneratorMetadata, type GeneratorScores, imageGrid, latentVectors,
} from '@cv/tasks-gan';

/** The generator folder of `--model`: the folder itself, or a run's `generator/`. */
export function generatorDir(model: string): string {
  for (const dir of [model, path.join(model, 'generator')]) if (fs.existsSync(path.join(dir, 'model.json'))) return dir;
  throw new ConfigError(`--model '${model}' has no generator (no model.json in it or in its generator/ folder); pass a dcgan:train run folder or models/dcgan/<name>`);
}

/** Spherical interpolation between two latent vectors (the path stays where N(0, I) has its mass). */
function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const cos = Math.min(1, Math.max(-1, a.reduce((s, x, i) => s + x * b[i], 0) / (norm(a) * norm(b))));
  const omega = Math.acos(cos);
  if (omega < 1e-6) return a.map((x, i) => (1 - t) * x + t * b[i]);
  const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const wb = Math.sin(t * omega) / Math.sin(omega);
  return a.map((x, i) => wa * x + wb * b[i]);
}

/** The latent vectors (and labels) to draw for a sampling command. */
function latents(cfg: DcganSampleConfig, meta: GeneratorMetadata): { z: Float32Array; labels?: Int32Array } {
  const d = meta.latentDim;
  const k = meta.classNames.length;
  let z: Float32Array;
  if (cfg.interpolate) {
    const a = latentVectors(1, d, deriveSeed(cfg.seed, 'sample'));
    const b = latentVectors(1, d, deriveSeed(cfg.seed + 1, 'sample'));
    z = new Float32Array(cfg.n * d);
    for (let i = 0; i < cfg.n; i++) z.set(slerp(a, b, cfg.n === 1 ? 0 : i / (cfg.n - 1)), i * d);
  } else z = latentVectors(cfg.n, d, deriveSeed(cfg.seed, 'sample'));
  if (!k) return { z };
  return { z, labels: Int32Array.from({ length: cfg.n }, (_, i) => cfg.class ?? i % k) };
}

export interface SampleOutcome {
  images: Float32Array;
  file?: string;
  scores?: GeneratorScores;
}

/** `dcgan:sample`: draws images from a trained generator, writes a grid or strip, optionally scores them. */
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
  const generator = await loadModel(dir);
  const meta = generator.getUserDefinedMetadata() as GeneratorMetadata | undefined;
  if (meta?.task !== 'dcgan') throw new ConfigError(`'${dir}' is not a DCGAN generator (no dcgan metadata in model.json); pass a folder written by dcgan:train`);
  const k = meta.classNames.length;
  if (cfg.class !== undefined && !k) throw new ConfigError(`--class needs a class-conditional generator; '${dir}' is unconditional (train one with --conditional)`);
  if (cfg.class !== undefined && cfg.class >= k) throw new ConfigError(`--class ${cfg.class} does not exist; classes 0..${k - 1}: ${meta.classNames.join(', ')}`);
  const { z, labels } = latents(cfg, meta);
  const images = generateImages(generator, z, labels);
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
    const scores = judge.score(images);
    outcome.scores = scores;
    if (cfg.json) console.log(JSON.stringify(scores));
    else {
      log(`judged by ${cfg.evalClassifier} on ${cfg.n} samples: mean confidence ${scores.meanConfidence.toFixed(4)}, class entropy ${scores.classEntropy.toFixed(4)}, FID ${scores.fid.toFixed(2)} (real-vs-real floor ${scores.fidFloor.toFixed(2)})`);
    }
  }
  return outcome;
}
