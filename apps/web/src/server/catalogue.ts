import fs from 'node:fs';
import path from 'node:path';
import type { WebTask } from '../shared/tasks';

/** The shipped models the site serves. A request names one by `id`; paths never come from a request. */
export interface CatalogueEntry {
  id: string;
  task: WebTask;
  /** Folder under the repository's `models/`, or an absolute folder (a model added by WEB_MODELS_EXTRA). */
  dir: string;
  title: string;
  /** Added at run time (WEB_MODELS_EXTRA): no copy under public/, the server alone answers with it. */
  serverOnly?: boolean;
}

const TASKS: readonly WebTask[] = ['classify', 'detect', 'segment', 'dcgan'];

/**
 * Models the operator adds: `WEB_MODELS_EXTRA="detect=/srv/models/yolo11n,classify=models/backbones/resnet18"` (a
 * folder with a tfjs model.json or a model.onnx — e.g. an Ultralytics export, run on ONNX Runtime; relative paths
 * from the repository root). Each gets the id `extra-<folder name>`. A malformed entry stops the server with one line.
 */
export function extraModels(spec: string | undefined): CatalogueEntry[] {
  if (!spec?.trim()) return [];
  return spec.split(',').map((item) => {
    const m = item.trim().match(/^([a-z]+)=(.+)$/);
    if (!m || !TASKS.includes(m[1] as WebTask))
      throw new Error(`WEB_MODELS_EXTRA entry '${item}' is not <task>=<folder> with a task of ${TASKS.join(', ')}; fix the variable`);
    const dir = path.resolve(repoRoot(), m[2]);
    if (!fs.existsSync(path.join(dir, 'model.json')) && !fs.existsSync(path.join(dir, 'model.onnx')))
      throw new Error(`WEB_MODELS_EXTRA folder '${m[2]}' holds neither model.json nor model.onnx; fix the path`);
    const name = path.basename(dir);
    return { id: `extra-${name}`, task: m[1] as WebTask, dir, title: `${name} (added)`, serverOnly: true };
  });
}

const BUILT_IN: readonly CatalogueEntry[] = [
  { id: 'fashion-mnist', task: 'classify', dir: 'classify/fashion-mnist', title: 'Fashion-MNIST classifier' },
  { id: 'mnist', task: 'classify', dir: 'classify/mnist', title: 'MNIST digit classifier' },
  { id: 'shapes-detect', task: 'detect', dir: 'detect/shapes', title: 'Shapes detector (YOLO-style)' },
  { id: 'shapes-segment', task: 'segment', dir: 'segment/shapes', title: 'Shapes U-Net segmenter' },
  { id: 'mnist-dcgan', task: 'dcgan', dir: 'dcgan/mnist', title: 'MNIST DCGAN generator' },
];

export const CATALOGUE: readonly CatalogueEntry[] = [...BUILT_IN, ...extraModels(process.env.WEB_MODELS_EXTRA)];

/** The first model of each task: what a request without `model` gets. */
export function defaultModel(task: CatalogueEntry['task']): CatalogueEntry {
  return CATALOGUE.find((m) => m.task === task)!;
}

/** The repository root: the nearest folder above the working directory that holds nx.json. */
export function repoRoot(): string {
  let dir = process.cwd();
  while (!fs.existsSync(path.join(dir, 'nx.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no nx.json above ${process.cwd()}; start the site from the repository (npx nx run web:start)`);
    dir = up;
  }
  return dir;
}

export const modelDir = (entry: CatalogueEntry): string => (path.isAbsolute(entry.dir) ? entry.dir : path.join(repoRoot(), 'models', entry.dir));
