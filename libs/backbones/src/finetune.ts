import type * as tf from '@tensorflow/tfjs';
import type { ParamGroup } from '@cv/engine/core';
import { z } from 'zod';
import { freezeUpTo } from './freeze';
import type { FeatureInfo } from './types';

/**
 * Fine-tuning a pretrained backbone, the same in every task: `--freeze <stage>` trains the rest alone for the
 * first `--freeze-epochs` (the frozen stages' BatchNorm keeps its statistics), then everything trains, the
 * backbone at `--finetune-lr` and the task's own layers (head, neck, decoder) at `--lr`.
 */
export const finetuneKeys = {
  freeze: z
    .string()
    .default('none')
    .describe(
      'backbone: freeze stem..this stage (e.g. stage2) for the first --freeze-epochs, then unfreeze all (their BatchNorm statistics stay fixed while frozen)',
    ),
  freezeEpochs: z.number().int().min(0).default(0).describe('epochs of the frozen phase (0 with --freeze: half the epochs)'),
  finetuneLr: z.number().min(0).default(0).describe('backbone learning rate once unfrozen (0 = --lr); the task’s own layers keep --lr'),
};

export interface FinetuneConfig {
  freeze: string;
  freezeEpochs: number;
  finetuneLr: number;
  lr: number;
  epochs: number;
}

export interface FinetunePlan {
  /** The run's optimizers by name (checkpointed by the Trainer). */
  optimizers: Record<string, tf.Optimizer>;
  /** Per-optimizer learning-rate scales (the Trainer's `lrScales`). */
  lrScales: Record<string, number>;
  /** Which optimizer trains which weights in an epoch (also freezes / unfreezes the model's stages). */
  groupsForEpoch(epoch: number): ParamGroup[];
  freezeEpochs: number;
  /** ', stem..stage2 frozen for 5 epoch(s), backbone at lr 2e-4' — for the run's summary line. */
  summary: string;
}

/** Is this layer (or weight: 'layer/kernel') part of the backbone's stages? */
export function inBackbone(stages: FeatureInfo[], name: string): boolean {
  const layer = name.split('/')[0];
  return stages.some((s) => (s.layers ?? [s.name]).some((p) => layer === p || layer.startsWith(`${p}_`)));
}

/**
 * Optimizers and parameter groups of a fine-tuning run: with a frozen phase a first optimizer ('phase1') trains
 * what is not frozen; afterwards, with `finetuneLr`, the task's layers ('head') and the backbone ('backbone') train
 * at their own rates, else one optimizer ('optimizer') trains all. Each optimizer always sees the same weights
 * (tfjs optimizers keep slots by position). Validates the stage name up front.
 *
 * @example
 * const plan = planFinetune(cfg, model, stages, () => tf.train.adam(cfg.lr));
 * // plan.optimizers, plan.lrScales and plan.groupsForEpoch go to the task and the Trainer
 */
export function planFinetune(cfg: FinetuneConfig, model: tf.LayersModel, stages: FeatureInfo[] | null, makeOptimizer: () => tf.Optimizer): FinetunePlan {
  if (!stages && (cfg.freeze !== 'none' || cfg.finetuneLr > 0)) throw new Error('--freeze and --finetune-lr need a registry backbone with stages');
  if (stages && cfg.freeze !== 'none') freezeUpTo(model, stages, cfg.freeze);
  if (stages) freezeUpTo(model, stages, 'none');
  const freezeEpochs = cfg.freeze === 'none' ? 0 : cfg.freezeEpochs || Math.max(1, Math.floor(cfg.epochs / 2));
  const split = stages !== null && cfg.finetuneLr > 0;
  const names = freezeEpochs > 0 ? ['phase1'] : [];
  names.push(...(split ? ['head', 'backbone'] : ['optimizer']));
  const optimizers = Object.fromEntries(names.map((n) => [n, makeOptimizer()]));
  const lrScales: Record<string, number> = split ? { backbone: cfg.finetuneLr / cfg.lr } : {};
  const isBackbone = (name: string) => inBackbone(stages ?? [], name);
  const groupsForEpoch = (epoch: number): ParamGroup[] => {
    if (epoch < freezeEpochs) {
      freezeUpTo(model, stages!, cfg.freeze);
      return [{ optimizer: 'phase1', owns: () => true }];
    }
    if (stages) freezeUpTo(model, stages, 'none');
    return split
      ? [
          { optimizer: 'head', owns: (n) => !isBackbone(n) },
          { optimizer: 'backbone', owns: isBackbone },
        ]
      : [{ optimizer: 'optimizer', owns: () => true }];
  };
  const parts = [
    freezeEpochs ? `${stages![0].name}..${cfg.freeze} frozen for ${freezeEpochs} epoch(s)` : '',
    split ? `backbone at lr ${cfg.finetuneLr}` : '',
  ].filter(Boolean);
  return { optimizers, lrScales, groupsForEpoch, freezeEpochs, summary: parts.length ? `, ${parts.join(', ')}` : '' };
}
