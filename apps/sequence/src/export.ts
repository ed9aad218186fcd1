import { ExportSchema, runCli, runExport } from '@cv/engine';
import { registerSequenceLayers } from '@cv/tasks-sequence';

runCli(
  (argv) => runExport(argv, 'sequence:export'),
  { schema: ExportSchema, usage: 'usage: nx run sequence:export -- --model <dir> --out <dir>' },
  registerSequenceLayers,
);
