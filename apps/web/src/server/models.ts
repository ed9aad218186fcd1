import fs from 'node:fs';
import path from 'node:path';
import type { Predictor } from '@cv/engine/core';
import { CATALOGUE, type CatalogueEntry, defaultModel, modelDir, repoRoot } from './catalogue';
import { HttpError } from './errors';

/** What the server runs on, from the engine's `initBackend`. */
export interface ServerBackend {
  name: string;
  kernels: string;
  threads: number;
  line: string;
}

interface Loaded {
  backend: ServerBackend;
  predictors: Map<string, Predictor>;
  /** Bytes of each model's folder, read once with the model. */
  sizes: Map<string, number>;
  loadMs: number;
}

const KEY = Symbol.for('cv.web.models');
type Holder = { [KEY]?: Promise<Loaded> };

async function load(): Promise<Loaded> {
  const t0 = performance.now();
  // The engine finds its native kernels from its own location, which a bundle hides: name the file.
  process.env.CV_ONEDNN_ADDON ??= path.join(repoRoot(), 'libs/engine/native/build/cv_onednn.node');
  const engine = await import('@cv/engine');
  await Promise.all([
    import('@cv/tasks-classify/predict'),
    import('@cv/tasks-detect/predict'),
    import('@cv/tasks-segment/predict'),
    import('@cv/tasks-dcgan/predict'),
  ]);
  let line = '';
  const info = await engine.initBackend({ log: (l) => (line = l) });
  console.log(line);
  const predictors = new Map<string, Predictor>();
  const sizes = new Map<string, number>();
  for (const entry of CATALOGUE) {
    const dir = modelDir(entry);
    if (!fs.existsSync(path.join(dir, 'model.json')) && !fs.existsSync(path.join(dir, 'model.onnx')))
      throw new Error(`model '${entry.id}' is missing at ${dir}; restore models/ from the repository`);
    predictors.set(entry.id, await engine.loadPredictor(dir));
    sizes.set(entry.id, folderBytes(dir));
  }
  return { backend: { name: info.name, kernels: info.kernels, threads: info.threads, line }, predictors, sizes, loadMs: performance.now() - t0 };
}

/** The backend and every shipped Predictor, loaded once per server process. */
export function loaded(): Promise<Loaded> {
  const holder = globalThis as Holder;
  holder[KEY] ??= load().catch((e) => {
    delete holder[KEY];
    throw e;
  });
  return holder[KEY];
}

/** The Predictor a request names by id (or the task's default), refused with a 4xx line otherwise. */
export async function predictorFor<P extends Predictor>(task: CatalogueEntry['task'], id: string | null): Promise<{ entry: CatalogueEntry; predictor: P }> {
  const entry = id ? CATALOGUE.find((m) => m.id === id) : defaultModel(task);
  if (!entry) throw new HttpError(404, `no model '${id}'; GET /api/models lists the ids`);
  if (entry.task !== task) throw new HttpError(400, `model '${id}' is a ${entry.task} model, not ${task}; GET /api/models lists the ids`);
  const { predictors } = await loaded();
  return { entry, predictor: predictors.get(entry.id) as P };
}

/** Bytes of a model folder's files. */
function folderBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
}
