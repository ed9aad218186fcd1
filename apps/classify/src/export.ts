import { ExportSchema, runCli, runExport } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';

runCli(
  (argv) => runExport(argv, 'classify:export'),
  { schema: ExportSchema, usage: 'usage: nx run classify:export -- --model <dir> --out <dir>' },
  registerRegularizationLayers,
);
