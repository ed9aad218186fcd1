import { pruneCommand } from '@cv/engine';
import { segmentTask } from '@cv/tasks-segment';

pruneCommand(
  segmentTask,
  'usage: nx run segment:prune -- --model <dir> [--method magnitude|channel] --sparsity 0.5 --epochs N --out <dir> --data ... [training keys]',
);
