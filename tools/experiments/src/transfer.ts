/**
 * Transfer learning shown, not claimed: resnet-s fine-tuned from the suite's Fashion-MNIST-pretrained
 * weights vs the same network from scratch, on a 1,000-image MNIST training subset, same epochs and
 * schedule. Writes docs/results/transfer.md.
 *
 *   npx nx run experiments:transfer
 */
import fs from 'node:fs';
import path from 'node:path';
import { pct, trainRun } from './runs';

const BASE = ['--dataset', 'mnist', '--train-limit', '1000', '--model', 'resnet-s', '--epochs', '8', '--seed', '0'];
const VARIANTS: [string, string[]][] = [
  ['from scratch', []],
  ['pretrained (Fashion-MNIST), fine-tuned', ['--pretrained']],
  ['pretrained, stem..stage2 frozen for 3 epochs, then backbone lr 5e-4', ['--pretrained', '--freeze', 'stage2', '--freeze-epochs', '3', '--finetune-lr', '5e-4']],
];

function main(): void {
  const started = new Date();
  const root = path.join('runs', 'experiments', 'transfer');
  const results = VARIANTS.map(([name, extra], i) => ({ ...trainRun(`v${i}`, [...BASE, ...extra], root), name }));
  const scratch = results[0].accuracy;
  const rows = results.map((r) => `| ${r.name} | ${pct(r.accuracy)} | ${r === results[0] ? '—' : `${(100 * (r.accuracy - scratch)).toFixed(2)}`} | ${pct(r.trainAccuracy)} | ${r.trainSeconds.toFixed(0)} | \`${r.args.slice(BASE.length).join(' ') || '(none)'}\` |`);
  const md = `# Transfer learning (resnet-s)

Pretrained weights: \`models/backbones/resnet-s/\` (trained by \`npx nx run backbones:pretrain -- --name resnet-s\` on
Fashion-MNIST; see its MODEL_CARD.md). Target: a 1,000-image, class-balanced MNIST training subset; test = the
suite's 1,000-image MNIST test split. Same budget for every run: ${BASE.slice(BASE.indexOf('--epochs') + 1, BASE.indexOf('--epochs') + 2)} epochs, batch 64,
Adam 2e-3 with cosine decay, seed 0, backend wasm. Date: ${started.toISOString().slice(0, 10)}.

Command: \`npx nx run experiments:transfer\` (each row is \`npx nx run classify:train -- ${BASE.join(' ')} <options>\`).

| run | test acc % | gain vs scratch (points) | train acc % | train s | options |
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
