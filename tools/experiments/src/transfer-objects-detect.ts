/**
 * Transfer in detection: the detector with torchvision's ResNet-18 (width ×0.25) as its backbone, from the backbone
 * pretrained on `data:objects --family pretrain` (classification of 8 other outlines) vs from scratch, on a small
 * detection set of the 5 downstream outlines (`data:objects --detection`): same epochs, batch, learning rate, seeds.
 * Validation on a separate generated set (never used for a choice: no early stopping, the last epoch's model is
 * scored). Runs one at a time. Writes docs/results/transfer-objects-detect.md.
 *
 *   npx nx run experiments:transfer-objects-detect [-- --reuse] [--seeds 0,1,2] [--epochs 30]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const option = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const weights = option('--weights', 'models/backbones/resnet18-w025-objects');
const train = option('--data', 'datasets/objects-det-train/annotations.json');
const val = option('--val-data', 'datasets/objects-det-val/annotations.json');
const seeds = option('--seeds', '0,1,2').split(',').map(Number);
const epochs = Number(option('--epochs', '30'));
const reuse = process.argv.includes('--reuse');
for (const f of [train, val])
  if (!fs.existsSync(f))
    throw new Error(
      `'${f}' does not exist; write the sets with: npx nx run data:objects -- --detection --family downstream --size 160 --out datasets/objects-det-train --train 400 --seed 3 (and --out datasets/objects-det-val --train 200 --seed 4)`,
    );

const common = [
  '--data',
  train,
  '--val-data',
  val,
  '--backbone',
  'resnet18',
  '--width-mult',
  '0.25',
  '--imgsz',
  '160',
  '--batch-size',
  '16',
  '--epochs',
  String(epochs),
];
const arms = [
  { arm: 'scratch', flags: [] as string[] },
  { arm: 'pretrained', flags: ['--pretrained', weights] },
];
const root = path.join('runs', 'experiments', 'transfer-objects-detect');
const results: { arm: string; seed: number; stats: number[]; seconds: number }[] = [];
for (const seed of seeds) {
  for (const { arm, flags } of arms) {
    const runDir = path.join(root, `${arm}-s${seed}`);
    const args = [...common, '--seed', String(seed), ...flags, '--out', runDir];
    if (!(reuse && fs.existsSync(path.join(runDir, 'report.json')))) {
      console.log(`\n== ${arm} seed ${seed}: npx nx run detect:train -- ${args.join(' ')}`);
      const r = spawnSync(path.resolve('node_modules/.bin/tsx'), ['apps/detect/src/train.ts', ...args], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error(`${arm} seed ${seed} failed`);
    }
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
    results.push({ arm, seed, stats: report.stats, seconds: report.trainSeconds ?? NaN });
  }
}
const f3 = (v: number) => v.toFixed(3);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const of = (arm: string) => results.filter((r) => r.arm === arm);
const rows = seeds.map((seed) => {
  const [s, p] = ['scratch', 'pretrained'].map((a) => results.find((r) => r.arm === a && r.seed === seed)!);
  return `| ${seed} | ${f3(s.stats[0])} / ${f3(s.stats[1])} | ${f3(p.stats[0])} / ${f3(p.stats[1])} | **${(p.stats[0] - s.stats[0]).toFixed(3)}** / **${(p.stats[1] - s.stats[1]).toFixed(3)}** |`;
});
const m = (arm: string, i: number) => mean(of(arm).map((r) => r.stats[i]));
const md = `# Transfer in detection (resnet18 ×0.25 backbone, \`data:objects\`)

Backbone weights: \`${weights}\` (pretrained by classification on 8 other outlines; its MODEL_CARD.md). Detection set:
5 outlines never seen in pretraining, 160×160 textured scenes with 1–5 labelled objects and up to 2 unlabelled
distractors — \`${train}\` (400 images) for training, \`${val}\` (200 images, another seed) for validation, the last
epoch's model scored (no choice made on it). Both arms: the yolo-n neck and head on the same backbone, ${epochs} epochs,
batch 16, the detector's default schedule and augmentation; the pretrained arm loads every backbone layer (neck and
head fresh).

Each run: \`npx nx run detect:train -- ${common.join(' ')} --seed S [--pretrained ${weights}]\`
Command: \`npx nx run experiments:transfer-objects-detect\`. Date: ${new Date().toISOString().slice(0, 10)}.

| seed | scratch mAP50-95 / mAP50 | pretrained mAP50-95 / mAP50 | gain |
| ---: | ---: | ---: | ---: |
${rows.join('\n')}
| mean | ${f3(m('scratch', 0))} / ${f3(m('scratch', 1))} | ${f3(m('pretrained', 0))} / ${f3(m('pretrained', 1))} | **${(m('pretrained', 0) - m('scratch', 0)).toFixed(3)}** / **${(m('pretrained', 1) - m('scratch', 1)).toFixed(3)}** |
`;
fs.writeFileSync('docs/results/transfer-objects-detect.md', md);
console.log(md);
