import { runCli } from '@cv/engine';
import { runSegmentPredict, SegmentPredictSchema } from '@cv/tasks-segment';

runCli(runSegmentPredict, {
  schema: SegmentPredictSchema,
  usage: 'usage: nx run segment:predict -- --model <dir> --images <dir> --out <dir> [--mode resize|whole|tiles]',
});
