import { runCli } from '@cv/engine';
import { registerSequenceLayers, runSequencePredict, SequencePredictSchema } from '@cv/tasks-sequence';

runCli(
  runSequencePredict,
  { schema: SequencePredictSchema, usage: 'usage: nx run sequence:predict -- --model <dir> [--json] <file.csv | folder> ...' },
  registerSequenceLayers,
);
