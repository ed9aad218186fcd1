import { pruneCommand } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { classifyTask } from '@cv/tasks-classify';

pruneCommand(
  classifyTask,
  'usage: nx run classify:prune -- --model <dir> [--method magnitude|channel] --sparsity 0.5 --epochs N --out <dir> [training keys]',
  registerRegularizationLayers,
);
