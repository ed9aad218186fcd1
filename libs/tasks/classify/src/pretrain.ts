/**
 * Pretrains a registry backbone (with a classification head) on a dataset the suite has and ships it:
 *
 *   npx nx run backbones:pretrain -- --name resnet-s [--dataset fashion-mnist] [--epochs 2]
 *
 * The run goes to runs/backbones/<name>; the exported weights (tfjs LayersModel) and a model card go to
 * models/backbones/<name>/, where `pretrained: true` finds them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { listBackbones } from '@cv/backbones';
import { ConfigError, exportModel, parseArgs, runTrainJob } from '@cv/engine';
import { z } from 'zod';
import { classifyTask } from './definition';

export const PretrainSchema = z.object({
  name: z
    .string()
    .optional()
    .describe(`backbone to pretrain: ${listBackbones().join(', ')}`),
  dataset: z.string().default('fashion-mnist').describe('dataset (fashion-mnist, mnist, glyphs = procedural pen strokes, or an image folder)'),
  epochs: z.number().int().positive().default(2).describe('epochs'),
  trainLimit: z.number().int().min(0).default(0).describe('first N training images, class-balanced (0 = all)'),
  classes: z.string().default('').describe('pretrain on these class indices only, e.g. 0,1,2,3,4'),
  batchSize: z.number().int().positive().default(64).describe('images per step'),
  lr: z.number().positive().default(2e-3).describe('peak learning rate (cosine schedule)'),
  seed: z.number().int().min(0).default(0).describe('seed'),
  rotate: z.number().min(0).default(0).describe('augment: max rotation in degrees'),
  scale: z.number().min(0).max(0.9).default(0).describe('augment: max relative scale change'),
  translate: z.number().min(0).max(0.5).default(0).describe('augment: max translation, fraction of size'),
  flip: z.number().min(0).max(1).default(0).describe('augment: horizontal flip probability'),
  imageSize: z.number().int().positive().default(28).describe('image-folder datasets: square input size'),
  widthMult: z.number().positive().max(4).default(1).describe('reference architectures: torchvision width multiplier'),
  channels: z
    .union([z.literal(1), z.literal(3)])
    .default(1)
    .describe('image-folder datasets: 1 = gray, 3 = RGB (the torchvision layouts take 3)'),
  workers: z.number().int().min(0).default(1).describe('data-parallel replicas (0 = one per core)'),
  out: z.string().optional().describe('where to ship the weights (default models/backbones/<name>)'),
});

/** `backbones:pretrain`: a classify job on a backbone, then the weights and a model card shipped. */
export async function runPretrain(argv: string[]): Promise<void> {
  const { config } = parseArgs(PretrainSchema, argv);
  if (!config.name) throw new ConfigError(`backbones:pretrain needs --name (one of ${listBackbones().join(', ')})`);
  if (!listBackbones().includes(config.name)) throw new ConfigError(`unknown backbone '${config.name}'; available: ${listBackbones().join(', ')}`);
  const out = config.out ?? path.join('models', 'backbones', config.name);
  const runDir = path.join('runs', 'backbones', config.name);
  const started = new Date();
  const outcome = await runTrainJob(classifyTask, [
    '--model',
    config.name,
    '--dataset',
    config.dataset,
    '--epochs',
    String(config.epochs),
    '--train-limit',
    String(config.trainLimit),
    '--batch-size',
    String(config.batchSize),
    '--lr',
    String(config.lr),
    '--seed',
    String(config.seed),
    '--dropout',
    '0',
    '--out',
    runDir,
    ...(config.classes ? ['--classes', config.classes] : []),
    '--rotate',
    String(config.rotate),
    '--scale',
    String(config.scale),
    '--translate',
    String(config.translate),
    '--flip',
    String(config.flip),
    '--image-size',
    String(config.imageSize),
    '--width-mult',
    String(config.widthMult),
    '--channels',
    String(config.channels),
    '--workers',
    String(config.workers),
  ]);
  if (!outcome) return; // a replica worker (never with the single-replica default)
  await exportModel(path.join(runDir, 'model'), out);
  const r = outcome.report;
  const augment = (['rotate', 'scale', 'translate', 'flip'] as const).filter((k) => config[k] > 0);
  const augmentFlags = augment.map((k) => ` --${k} ${config[k]}`).join('');
  fs.writeFileSync(
    path.join(out, 'MODEL_CARD.md'),
    `# ${config.name} — pretrained backbone

- **What:** the \`${config.name}\` backbone (libs/backbones) with a classification head (\`head_*\` layers), trained from
  scratch by this suite; \`pretrained: true\` / \`--pretrained\` loads the backbone layers by name and skips a head of
  another class count.
- **Data:** ${outcome.datasetName} (${outcome.split}); a seeded 10 % of the training split held out for validation, then ${config.trainLimit ? `the first ${config.trainLimit} of the rest, class-balanced` : 'all the rest'} for training.
- **Training:** ${config.epochs} epochs, batch ${config.batchSize}, Adam ${config.lr} with cosine decay, seed ${config.seed}${augment.length ? `, augmentation: ${augment.map((k) => `${k} ${config[k]}`).join(', ')}` : ''}, ${outcome.trainSeconds.toFixed(0)} s on the wasm backend (${config.workers} replica(s)).
- **Test accuracy (${outcome.datasetName}, ${r.testImages} images):** ${(100 * r.accuracy).toFixed(2)} %.
- **Command:** \`npx nx run backbones:pretrain -- --name ${config.name} --dataset ${config.dataset} --epochs ${config.epochs}${config.trainLimit ? ` --train-limit ${config.trainLimit}` : ''}${config.classes ? ` --classes ${config.classes}` : ''}${config.imageSize !== 28 ? ` --image-size ${config.imageSize}` : ''}${config.widthMult !== 1 ? ` --width-mult ${config.widthMult}` : ''}${config.channels !== 1 ? ` --channels ${config.channels}` : ''}${augmentFlags}${config.workers !== 1 ? ` --workers ${config.workers}` : ''}${config.out ? ` --out ${config.out}` : ''}\`
- **Date:** ${started.toISOString().slice(0, 10)}.
`,
  );
  console.log(`shipped ${config.name} weights to ${out} (test accuracy ${(100 * r.accuracy).toFixed(2)} %)`);
}
