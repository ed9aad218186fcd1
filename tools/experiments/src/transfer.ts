/**
 * Transfer learning shown, not claimed: resnet-s fine-tuned from the shipped pretrained weights
 * (models/backbones/resnet-s, pretrained on Fashion-MNIST) vs the same network from scratch, same epochs
 * and schedule, on a 1,000-image MNIST training subset, at three budgets.
 * Writes docs/results/transfer.md.
 *
 *   npx nx run experiments:transfer [-- --reuse]   (--reuse: read finished runs, re-render only)
 */
import fs from 'node:fs';
import path from 'node:path';
import { pct, trainRun } from './runs';

interface Target {
  label: string;
  args: string[];
}

const TARGETS: Target[] = [{ label: 'MNIST', args: ['--dataset', 'mnist'] }];
const EPOCHS = [8, 3, 1];
const COMMON = ['--train-limit', '1000', '--model', 'resnet-s', '--seed', '0'];

function main(): void {
  const reuse = process.argv.includes('--reuse');
  const started = new Date();
  const root = path.join('runs', 'experiments', 'transfer');
  const rows: string[] = [];
  TARGETS.forEach((target, ti) => {
    for (const epochs of EPOCHS) {
      const base = [...target.args, ...COMMON, '--epochs', String(epochs)];
      const scratch = trainRun(`t${ti}-e${epochs}-scratch`, base, root, reuse);
      const pre = trainRun(`t${ti}-e${epochs}-pretrained`, [...base, '--pretrained'], root, reuse);
      const gain = 100 * (pre.accuracy - scratch.accuracy);
      rows.push(`| ${target.label} | ${epochs} | ${pct(scratch.accuracy)} | ${pct(pre.accuracy)} | **${gain >= 0 ? '+' : ''}${gain.toFixed(2)}** | \`${base.join(' ')} [--pretrained]\` |`);
    }
  });
  const card = fs.existsSync('models/backbones/resnet-s/MODEL_CARD.md') ? fs.readFileSync('models/backbones/resnet-s/MODEL_CARD.md', 'utf8') : '';
  const pretrainCommand = card.match(/\*\*Command:\*\* `([^`]+)`/)?.[1] ?? 'see models/backbones/resnet-s/MODEL_CARD.md';
  const md = `# Transfer learning (resnet-s)

Pretrained weights: \`models/backbones/resnet-s/\`, trained by this suite with \`${pretrainCommand}\`
(see its MODEL_CARD.md). Each row compares the same network and budget (1,000 class-balanced training
images, batch 64, Adam 2e-3 with cosine decay, seed 0, backend wasm) from scratch and from the pretrained
backbone (the task head always starts fresh). Test set: the suite's fixed 1,000-image MNIST test split. Date: ${started.toISOString().slice(0, 10)}.

Command: \`npx nx run experiments:transfer\`; each run is \`npx nx run classify:train -- <options>\`.

| target (1,000 training images) | epochs | scratch test % | pretrained test % | gain (points) | options |
| --- | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}
`;
  fs.mkdirSync('docs/results', { recursive: true });
  fs.writeFileSync('docs/results/transfer.md', md);
  console.log(md);
}

try {
  main();
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
}
