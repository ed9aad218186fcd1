import { ExportSchema, runCli, runExport } from '@cv/engine';

runCli((argv) => runExport(argv, 'segment:export'), { schema: ExportSchema, usage: 'usage: nx run segment:export -- --model <dir> --out <dir>' });
