/** The classifier that judges a generator's samples (FID, confidence, class entropy), and its data. */
import fs from 'node:fs';
import path from 'node:path';
import { loadClassificationDataset } from '@cv/data';
import { ConfigError, loadModel } from '@cv/engine';
import { GeneratorEvaluator } from './evaluate';
import type { GeneratorMetadata } from './predictor';

/**
 * The classifier folder that judges samples: explicit, `models/classify/<dataset>` for 'auto' (the shipped
 * MNIST / Fashion-MNIST classifiers), or none.
 */
export function judgeDir(evalClassifier: string, dataset: string): string | null {
  if (evalClassifier === 'none') return null;
  if (evalClassifier !== 'auto') {
    if (!fs.existsSync(path.join(evalClassifier, 'model.json'))) {
      throw new ConfigError(
        `config key 'evalClassifier': '${evalClassifier}' has no model.json; pass a folder written by classify:train / classify:export, or 'none'`,
      );
    }
    return evalClassifier;
  }
  const builtin = path.join('models', 'classify', dataset);
  return ['mnist', 'fashion-mnist'].includes(dataset) && fs.existsSync(path.join(builtin, 'model.json')) ? builtin : null;
}

/** The evaluator of a generator's samples: `evalClassifier` (or 'auto') on the real images of its dataset. */
export async function generatorJudge(evalClassifier: string, meta: GeneratorMetadata): Promise<{ judge: GeneratorEvaluator; folder: string }> {
  const folder = judgeDir(evalClassifier, meta.dataset);
  if (!folder) throw new ConfigError(`no classifier of '${meta.dataset}' to judge samples with; pass --eval-classifier <classify model folder>`);
  const dataset = await loadClassificationDataset(meta.dataset, { size: meta.imageShape[0], channels: meta.imageShape[2] as 1 | 3 });
  return { judge: new GeneratorEvaluator(await loadModel(folder), dataset.train, dataset.test), folder };
}
