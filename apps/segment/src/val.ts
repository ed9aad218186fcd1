import { runCli } from '@cv/engine';
import { runSegmentVal, SegmentValSchema } from '@cv/tasks-segment';

runCli(runSegmentVal, {
  schema: SegmentValSchema,
  usage: 'usage: nx run segment:val -- --model <dir> --images <dir> --masks <dir> [--json out.json] [--out <dir>]',
});
