import { runCli } from '@cv/engine';
import { DetectPredictSchema, runDetectPredict } from '@cv/tasks-detect';

runCli(runDetectPredict, {
  schema: DetectPredictSchema,
  usage: 'usage: nx run detect:predict -- --model <dir> --images <dir> [--data <annotations.json>] --out <dir>',
});
