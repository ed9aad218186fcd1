import { runCli } from '@cv/engine';
import { DetectValSchema, runDetectVal } from '@cv/tasks-detect';

runCli(runDetectVal, {
  schema: DetectValSchema,
  usage: 'usage: nx run detect:val -- --model <dir> --data <annotations.json> [--images <dir>] [--json out.json]',
});
