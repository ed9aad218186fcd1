import { runCli } from '@cv/engine';
import { registerSequenceLayers, runSequenceVal, SequenceValSchema } from '@cv/tasks-sequence';

runCli(
  runSequenceVal,
  { schema: SequenceValSchema, usage: 'usage: nx run sequence:val -- --model <dir> [--dataset <name|csv>] [--json out.json] [--out <dir>]' },
  registerSequenceLayers,
);
