import { ConfigError, initBackend, loadModel, parseArgs } from '@cv/engine';
import { classifierMetadata } from '@cv/tasks-classify';
import { z } from 'zod';
import { runCli } from './cli';
import { exportModel } from './export-model';

const ExportSchema = z.object({
  model: z.string().optional().describe('model directory to export, e.g. runs/classify/exp/model'),
  out: z.string().optional().describe('output directory (tfjs LayersModel: model.json + weights.bin)'),
});

async function main(argv: string[]): Promise<void> {
  const { config } = parseArgs(ExportSchema, argv);
  if (!config.model || !config.out) throw new ConfigError('classify:export needs --model <dir> --out <dir>');
  await initBackend();
  const model = await loadModel(config.model);
  const meta = classifierMetadata(model, config.model);
  model.dispose();
  const diff = await exportModel(config.model, config.out, meta.inputShape);
  console.log(`exported ${config.model} → ${config.out} (tfjs LayersModel, ${meta.classNames.length} classes, input ${meta.inputShape.join('×')}; max |Δ| vs original ${diff.toExponential(1)})`);
}

runCli(main, { schema: ExportSchema, usage: 'usage: nx run classify:export -- --model <dir> --out <dir>' });
