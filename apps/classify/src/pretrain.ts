/**
 * Pretrains a registry backbone (with a classification head) and ships it: the run goes to runs/backbones/<name>,
 * the exported weights and a model card to models/backbones/<name>/.
 */
import { runCli } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { PretrainSchema, runPretrain } from '@cv/tasks-classify';

runCli(
  runPretrain,
  { schema: PretrainSchema, usage: 'usage: nx run backbones:pretrain -- --name resnet-s [--dataset fashion-mnist] [--epochs 2]' },
  registerRegularizationLayers,
);
