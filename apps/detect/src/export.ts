import { ExportSchema, runCli, runExport } from '@cv/engine';

runCli((argv) => runExport(argv, 'detect:export'), { schema: ExportSchema, usage: 'usage: nx run detect:export -- --model <dir> --out <dir>' });
