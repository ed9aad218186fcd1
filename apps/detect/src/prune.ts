import { pruneCommand } from '@cv/engine';
import { detectTask } from '@cv/tasks-detect';

pruneCommand(
  detectTask,
  'usage: nx run detect:prune -- --model <dir> [--method magnitude|channel] --sparsity 0.5 --epochs N --out <dir> --data ... [training keys]',
);
