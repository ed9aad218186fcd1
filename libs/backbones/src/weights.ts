import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModelFrom, type ModelSource } from '@cv/engine';

/** Where the suite's own pretrained backbones live: `<repo>/models/backbones/<name>/`. */
export function pretrainedDir(name: string): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../models/backbones', name);
}

export interface LoadReport {
  /** Layers whose weights were all copied. */
  loaded: string[];
  /** Layers of the target left as initialised, with the reason. */
  skipped: { layer: string; reason: string }[];
  source: string;
}

/** A weights folder that does not fit the model; the message lists the layers that differ. */
export class WeightsMismatchError extends Error {
  override name = 'WeightsMismatchError';
}

/**
 * Copies weights from a tfjs LayersModel into `target`, matching layers by name and weights by shape;
 * the classifier head (`head_*`) is never copied, and layers of another shape are skipped and reported.
 * `source`: `true` = the suite's shipped weights for `backboneName`; a folder (Node), a URL
 * (`https://…/model.json`, as `tf.loadLayersModel` takes it), or an in-memory `tf.io` handler. Throws when
 * nothing of the backbone matched.
 *
 * @example
 * const report = await loadPretrained(model, 'resnet-s', true);
 * await loadPretrained(model, 'resnet-s', 'https://example.org/resnet-s/model.json');
 * console.log(`${report.loaded.length} layers loaded, ${report.skipped.length} skipped`);
 */
export async function loadPretrained(target: tf.LayersModel, backboneName: string, source: true | ModelSource): Promise<LoadReport> {
  const where = source === true ? pretrainedDir(backboneName) : source;
  if (source === true && !fs.existsSync(path.join(pretrainedDir(backboneName), 'model.json'))) {
    throw new Error(
      `no pretrained weights shipped for '${backboneName}' (expected ${where}); train them with: npx nx run backbones:pretrain -- --name ${backboneName}`,
    );
  }
  const dir = typeof where === 'string' ? where : 'an in-memory model';
  const donor = await loadModelFrom(where);
  const byName = new Map(donor.layers.map((l) => [l.name, l]));
  const report: LoadReport = { loaded: [], skipped: [], source: dir };
  const mismatched: string[] = [];
  for (const layer of target.layers) {
    const targetWeights = layer.getWeights();
    if (targetWeights.length === 0) continue;
    if (layer.name.startsWith('head_')) {
      // A classifier head belongs to its pretraining task: a new task starts from a fresh head (timm resets it too).
      report.skipped.push({ layer: layer.name, reason: 'task head (kept initialised)' });
      continue;
    }
    const from = byName.get(layer.name);
    if (!from) {
      report.skipped.push({ layer: layer.name, reason: 'not in the weights folder' });
      continue;
    }
    const weights = from.getWeights();
    const same = weights.length === targetWeights.length && weights.every((w, i) => w.shape.join() === targetWeights[i].shape.join());
    if (!same) {
      const shapes = (ws: tf.Tensor[]) => ws.map((w) => `[${w.shape}]`).join(' ');
      report.skipped.push({ layer: layer.name, reason: `shapes differ: model ${shapes(targetWeights)} vs folder ${shapes(weights)}` });
      mismatched.push(`${layer.name} (model ${shapes(targetWeights)}, folder ${shapes(weights)})`);
      continue;
    }
    layer.setWeights(weights);
    report.loaded.push(layer.name);
  }
  donor.dispose();
  const backboneLayers = target.layers.filter((l) => !l.name.startsWith('head_') && l.getWeights().length > 0);
  if (report.loaded.length === 0 || mismatched.length > backboneLayers.length / 2) {
    throw new WeightsMismatchError(
      `weights in '${dir}' do not match '${backboneName}': ${report.loaded.length} of ${backboneLayers.length} backbone layers loaded; ` +
        `differing: ${mismatched.slice(0, 5).join('; ') || 'no layer names in common'}${mismatched.length > 5 ? `; ... (${mismatched.length} in all)` : ''}`,
    );
  }
  return report;
}
