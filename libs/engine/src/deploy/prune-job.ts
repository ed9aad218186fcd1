import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { initBackend } from '../infer/backend';
import { channelPrune } from './channel-prune';
import { ConfigError, parseArgs } from '../cli/args';
import { exportModel } from './export';
import { writeFileAtomic } from '../infer/files';
import { runTrainJob, type TaskDefinition } from '../train/train-job';
import { loadModel, MODEL_JSON } from '../infer/model-io';
import { MagnitudePruning, sparsityOf } from './prune';

export const PruneSchema = z.object({
  model: z.string().optional().describe('model folder to prune (a train run’s model/ or a shipped model)'),
  method: z
    .enum(['magnitude', 'channel'])
    .default('magnitude')
    .describe('magnitude: global unstructured, scheduled during the fine-tune; channel: structured, a smaller dense model'),
  sparsity: z
    .number()
    .min(0)
    .max(0.99)
    .default(0.5)
    .describe('magnitude: fraction of conv / dense kernel weights set to 0; channel: fraction of channels removed from each prunable conv'),
  frequency: z.number().int().positive().default(20).describe('magnitude: steps between mask updates while the sparsity ramps up'),
  out: z.string().optional().describe('folder for the pruned model (tfjs LayersModel)'),
  run: z.string().optional().describe('run folder of the fine-tune (default <out>-finetune)'),
});

const OWN = new Set(Object.keys(PruneSchema.shape).flatMap((k) => [k, k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)]));

/** Splits argv into the prune keys and the rest (the task's training keys for the fine-tune). */
function splitArgv(argv: string[]): { own: string[]; rest: string[] } {
  const own: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(=.*)?$/.exec(argv[i]);
    const target = m && OWN.has(m[1]) ? own : rest;
    target.push(argv[i]);
    if (m && !m[2] && i + 1 < argv.length && !argv[i + 1].startsWith('--')) target.push(argv[++i]);
  }
  return { own, rest };
}

const given = (argv: string[], key: string) => argv.some((a) => a === `--${key}` || a.startsWith(`--${key}=`));

/**
 * `<task>:prune`: prunes a trained model, then fine-tunes it with the task's own training job (data, loss,
 * validation and report as `<task>:train`), and writes the pruned model to `--out`. The architecture,
 * dataset and input size come from the model's metadata where the task's config has those keys; the
 * fine-tune defaults to 3 epochs at a tenth of the task's learning rate, without EMA or warm-up.
 */
export async function runPruneJob<S extends z.ZodObject, D, B, R>(def: TaskDefinition<S, D, B, R>, argv: string[]): Promise<void> {
  await initBackend({ log: false }); // before the source model's weights are made
  const { own, rest } = splitArgv(argv);
  const { config } = parseArgs(PruneSchema, own);
  const command = def.command.replace(':train', ':prune');
  if (!config.model || !config.out) throw new ConfigError(`${command} needs --model <dir> --out <dir>`);
  const source = await loadModel(config.model);
  const meta = (source.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const keys = def.schema.shape as Record<string, unknown>;
  const defaults = def.schema.parse({}) as Record<string, unknown>;
  const train = [...rest];
  const add = (key: string, value: unknown) => {
    if (
      value !== undefined &&
      value !== null &&
      key in keys &&
      !given(
        rest,
        key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
      )
    ) {
      train.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
    }
  };
  add('model', meta.model);
  add('dataset', meta.dataset);
  add('imgsz', Array.isArray(meta.imgsz) ? meta.imgsz[0] : undefined);
  add('epochs', 3);
  add('lr', (defaults.lr as number) / 10);
  add('ema', 0);
  add('warmupEpochs', 0);
  add('closeAugment', 0);
  const runDir = config.run ?? `${config.out.replace(/\/+$/, '')}-finetune`;
  train.push('--out', runDir);

  let initial = source;
  let note: Record<string, unknown>;
  if (config.method === 'channel') {
    const r = await channelPrune(source, config.sparsity);
    if (!r.layers.length) throw new ConfigError(`${command}: no layer of '${config.model}' can lose channels (${r.skipped[0]?.reason ?? 'no conv layers'})`);
    console.log(
      `channel pruning: ${r.layers.length} layers narrowed, ${r.skipped.length} left whole (residual adds, outputs); ${source.countParams().toLocaleString('en')} → ${r.model.countParams().toLocaleString('en')} parameters`,
    );
    note = { method: 'channel', fraction: config.sparsity, layers: r.layers, parametersBefore: source.countParams() };
    initial = r.model;
    source.dispose();
  } else {
    note = { method: 'magnitude', target: config.sparsity, parametersBefore: source.countParams() };
  }
  const callbacks = config.method === 'magnitude' ? () => [new MagnitudePruning(initial, { target: config.sparsity, frequency: config.frequency })] : undefined;
  await runTrainJob(def, train, { initialModel: initial, callbacks });
  const measured = sparsityOf(initial);
  await exportModel(path.join(runDir, 'model'), config.out);
  const jsonPath = path.join(config.out, MODEL_JSON);
  const json = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  json.userDefinedMetadata = {
    ...json.userDefinedMetadata,
    pruning: { ...note, sparsity: measured, parameters: initial.countParams(), from: config.model, run: runDir },
  };
  writeFileAtomic(jsonPath, JSON.stringify(json));
  console.log(
    `pruned model → ${config.out}: ${initial.countParams().toLocaleString('en')} parameters, kernel sparsity ${(100 * measured).toFixed(1)} % (fine-tune run ${runDir})`,
  );
}
