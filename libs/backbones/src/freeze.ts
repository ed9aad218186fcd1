import type * as tf from '@tensorflow/tfjs';
import type { FeatureInfo } from './types';

/**
 * Freezes every layer of the stages up to and including `upTo` (layer names start with the stage name),
 * so their weights stop training and their BatchNorm layers run in inference mode. `upTo = 'none'` unfreezes all.
 * Returns the names of the frozen layers.
 *
 * @example
 * freezeUpTo(model, backbone.stages, 'stage2'); // stem, stage1, stage2 frozen
 */
export function freezeUpTo(model: tf.LayersModel, stages: FeatureInfo[], upTo: string): string[] {
  for (const layer of model.layers) layer.trainable = true;
  if (upTo === 'none') return [];
  const idx = stages.findIndex((s) => s.name === upTo);
  if (idx < 0) throw new Error(`--freeze '${upTo}' is not a stage of this backbone; stages: ${stages.map((s) => s.name).join(', ')} (or none)`);
  const prefixes = stages.slice(0, idx + 1).flatMap((s) => (s.layers ?? [s.name]).map((p) => `${p}_`));
  const names = new Set(stages.slice(0, idx + 1).flatMap((s) => s.layers ?? [s.name]));
  const frozen: string[] = [];
  for (const layer of model.layers) {
    if (prefixes.some((p) => layer.name.startsWith(p)) || names.has(layer.name)) {
      layer.trainable = false;
      frozen.push(layer.name);
    }
  }
  return frozen;
}
