import { ConfigError, initBackend, nameList, parseArgs, saveModel } from '@cv/engine';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { listReferenceBackbones } from '../registry';
import { defaultClassNames, importTorchWeights } from './import';

export const ImportSchema = z.object({
  from: z.string().describe('a .safetensors or .onnx file (a torchvision state dict or ONNX export), or a folder holding one'),
  arch: z.string().describe(`architecture of the file: ${listReferenceBackbones().join(', ')}`),
  out: z.string().describe('model folder to write (replaced if it exists): tfjs model + metadata, import-report.json, README.md'),
  classes: z
    .string()
    .default('')
    .describe('class names of the file’s head: a text file (one per line) or a comma list (default: ImageNet-1k’s for 1000 classes)'),
  imageSize: z.number().int().min(32).default(0).describe('input size of the model (default: the reference crop, 224)'),
  resize: z.number().int().min(32).default(0).describe('shorter side before the centre crop (default: the reference, 256 for a 224 crop)'),
  widthMult: z.number().positive().default(1).describe('torchvision width multiplier of the file’s model (1 = the published one)'),
  depthMult: z.number().positive().default(1).describe('torchvision depth multiplier (EfficientNet)'),
});

function readClasses(spec: string, numClasses: number): string[] {
  if (!spec) return defaultClassNames(numClasses);
  const names = nameList(spec);
  if (names.length !== numClasses)
    throw new ConfigError(`--classes gives ${names.length} names but the file's head has ${numClasses} classes; give one name per class`);
  return names;
}

/**
 * `backbones:import`: torchvision weights (safetensors or ONNX) → a model folder the suite trains and predicts
 * with: a classifier when the file has its head (classify:predict / classify:val / the demo), else a backbone for
 * `--pretrained` in classify, detect (`--backbone`) and segment (`--encoder`).
 */
export async function runImport(argv: string[]): Promise<void> {
  const { config: cfg } = parseArgs(ImportSchema, argv);
  await initBackend();
  const size = cfg.imageSize || undefined;
  const result = importTorchWeights({ from: cfg.from, arch: cfg.arch, imageSize: size, widthMult: cfg.widthMult, depthMult: cfg.depthMult });
  const { model, report, head, numClasses, preprocess } = result;
  const crop = model.inputs[0].shape[1] as number;
  const pre = {
    resize: cfg.resize || Math.round((crop * preprocess.resize) / preprocess.crop),
    crop,
    interpolation: preprocess.interpolation,
  };
  const source = { file: path.resolve(report.source), format: report.format, arch: cfg.arch, widthMult: cfg.widthMult, depthMult: cfg.depthMult };
  const metadata: Record<string, unknown> = head
    ? { task: 'classify', classNames: readClasses(cfg.classes, numClasses), inputShape: [crop, crop, 3], model: cfg.arch, preprocess: pre, imported: source }
    : { task: 'backbone', model: cfg.arch, inputShape: [crop, crop, 3], preprocess: pre, stages: result.stages, imported: source };
  const out = path.resolve(cfg.out);
  const tmp = `${out}.importing-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await saveModel(model, tmp, metadata);
    fs.writeFileSync(path.join(tmp, 'import-report.json'), JSON.stringify(report, null, 1) + '\n');
    fs.writeFileSync(path.join(tmp, 'README.md'), modelCard(cfg.arch, metadata, report, head, numClasses, pre, result.stages));
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
    model.dispose();
  }
  const folded = report.foldedBatchNorm.length
    ? `; ${report.foldedBatchNorm.length} BatchNorm layers were folded into convolutions by the exporter (imported as identity + bias)`
    : '';
  console.log(
    `imported ${cfg.arch} from ${report.source} (${report.format}): ${report.matched.length} tensors matched, ${report.missing.length} missing, ` +
      `${report.unexpected.length} unexpected${folded}; ${head ? `classifier head with ${numClasses} classes` : 'no classifier head: a backbone'} → ${cfg.out}`,
  );
  console.log(
    head
      ? `next: npx nx run classify:predict -- --model ${cfg.out} --top 5 --json <image>`
      : `next: npx nx run classify:train -- --model ${cfg.arch} --pretrained ${cfg.out} --dataset <folder> --channels 3 --image-size ${crop}`,
  );
}

function modelCard(
  arch: string,
  meta: Record<string, unknown>,
  report: { source: string; format: string; matched: string[]; unexpected: string[]; foldedBatchNorm: string[] },
  head: boolean,
  numClasses: number,
  pre: { resize: number; crop: number; interpolation: string },
  stages: { name: string; channels: number; reduction: number }[],
): string {
  return [
    `# ${arch} (imported)`,
    '',
    `Imported by \`backbones:import\` from \`${path.basename(report.source)}\` (${report.format}); ${report.matched.length} tensors matched` +
      (report.foldedBatchNorm.length ? `, ${report.foldedBatchNorm.length} BatchNorm layers rebuilt from an export that had folded them.` : '.'),
    '',
    `- Task: ${head ? `classifier, ${numClasses} classes` : 'backbone (no classifier head)'}; input ${pre.crop}×${pre.crop} RGB, 0..1 (the model normalises with ImageNet mean / std).`,
    `- Preprocessing (as torchvision's eval transform, bit-exact with Pillow): shorter side → ${pre.resize} (${pre.interpolation}), centre crop ${pre.crop}.`,
    `- Stages: ${stages.map((s) => `${s.name} ${s.channels} ch / ${s.reduction}`).join(', ')}.`,
    `- Metadata: \`${JSON.stringify({ task: meta.task, model: meta.model })}\`; the full report of matched / missing / unexpected tensors is import-report.json.`,
    '',
  ].join('\n');
}
