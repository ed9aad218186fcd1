import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@cv/engine';
import { createReferenceClassifier } from './reference/classifier';
import { createBackbone } from './registry';
import { inBackbone, planFinetune } from './finetune';

describe('planFinetune (classify, detect and segment share it)', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('frozen phase, then head and backbone at their own rates; frozen BatchNorm keeps its statistics', () => {
    const { model, stages } = createReferenceClassifier('resnet18', { inputShape: [32, 32, 3], numClasses: 4, widthMult: 0.125 });
    const cfg = { freeze: 'stage2', freezeEpochs: 2, finetuneLr: 1e-4, lr: 1e-3, epochs: 5 };
    const plan = planFinetune(cfg, model, stages, () => tf.train.adam(cfg.lr));
    expect(Object.keys(plan.optimizers)).toEqual(['phase1', 'head', 'backbone']);
    expect(plan.lrScales).toEqual({ backbone: 0.1 });
    expect(plan.summary).toBe(', stem..stage2 frozen for 2 epoch(s), backbone at lr 0.0001');

    const trainable = () => new Set(model.trainableWeights.map((w) => w.originalName.split('/')[0]));
    expect(plan.groupsForEpoch(0).map((g) => g.optimizer)).toEqual(['phase1']);
    const frozen = trainable();
    expect(frozen.has('conv1')).toBe(false); // stem
    expect(frozen.has('layer2_0_conv1')).toBe(false); // stage2 = layer2
    expect(frozen.has('layer3_0_conv1')).toBe(true);
    expect(frozen.has('head_fc')).toBe(true);
    expect(model.getLayer('layer1_0_bn1').trainable).toBe(false);

    const groups = plan.groupsForEpoch(2);
    expect(groups.map((g) => g.optimizer)).toEqual(['head', 'backbone']);
    expect(trainable().has('conv1')).toBe(true);
    const [head, backbone] = groups;
    expect(backbone.owns('layer4_1_conv2/kernel')).toBe(true);
    expect(head.owns('layer4_1_conv2/kernel')).toBe(false);
    expect(head.owns('head_fc/kernel')).toBe(true);
    model.dispose();
  });

  it('stage membership goes by the layers each stage owns, not by a name prefix of another stage', () => {
    const { stages, model } = createBackbone('mobilenet_v2', { inputShape: [32, 32, 3], widthMult: 0.25 });
    expect(inBackbone(stages, 'features_1_conv_0_0/depthwise_kernel')).toBe(true);
    expect(inBackbone(stages, 'features_18_1/gamma')).toBe(true);
    expect(inBackbone(stages, 'decoder1_c1_conv/kernel')).toBe(false);
    expect(inBackbone(stages, 'neck_lat3_conv/kernel')).toBe(false);
    model.dispose();
  });

  it('refuses --freeze without stages, and an unknown stage by name', () => {
    const { model, stages } = createBackbone('resnet-s', { inputShape: [32, 32, 3] });
    const base = { freezeEpochs: 0, finetuneLr: 0, lr: 1e-3, epochs: 4 };
    expect(() => planFinetune({ ...base, freeze: 'stage9' }, model, stages, () => tf.train.adam(1e-3))).toThrow(
      /'stage9' is not a stage of this backbone; stages: stem, stage1/,
    );
    expect(() => planFinetune({ ...base, freeze: 'stage1' }, model, null, () => tf.train.adam(1e-3))).toThrow(/need a registry backbone/);
    const plain = planFinetune({ ...base, freeze: 'none' }, model, stages, () => tf.train.adam(1e-3));
    expect(Object.keys(plain.optimizers)).toEqual(['optimizer']);
    expect(plain.summary).toBe('');
    model.dispose();
  });
});
