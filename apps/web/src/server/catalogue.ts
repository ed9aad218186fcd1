import fs from 'node:fs';
import path from 'node:path';
import type { WebTask } from '../shared/tasks';

/** The shipped models the site serves. A request names one by `id`; paths never come from a request. */
export interface CatalogueEntry {
  id: string;
  task: WebTask;
  /** Folder under the repository's `models/`. */
  dir: string;
  title: string;
}

export const CATALOGUE: readonly CatalogueEntry[] = [
  { id: 'fashion-mnist', task: 'classify', dir: 'classify/fashion-mnist', title: 'Fashion-MNIST classifier' },
  { id: 'mnist', task: 'classify', dir: 'classify/mnist', title: 'MNIST digit classifier' },
  { id: 'shapes-detect', task: 'detect', dir: 'detect/shapes', title: 'Shapes detector (YOLO-style)' },
  { id: 'shapes-segment', task: 'segment', dir: 'segment/shapes', title: 'Shapes U-Net segmenter' },
  { id: 'mnist-dcgan', task: 'dcgan', dir: 'dcgan/mnist', title: 'MNIST DCGAN generator' },
];

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

export const modelDir = (entry: CatalogueEntry): string => path.join(repoRoot(), 'models', entry.dir);
