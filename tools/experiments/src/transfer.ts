/**
 * Transfer learning shown, not claimed: resnet-s fine-tuned from pretrained weights vs the same network
 * from scratch on a 1,000-image MNIST training subset. Every arm gets the same budget (epochs, batch,
 * schedule, seeds) and the same learning-rate grid; the first table gives every grid point, the second
 * picks each arm's learning rate by its own validation accuracy (100 held-out training images), never
 * by test accuracy. Two runs at a time (one core each). Writes docs/results/transfer.md.
 *
 *   npx nx run experiments:transfer [-- --reuse] [--weights DIR[,DIR…]] [--seeds 0,1,2]
 *     --reuse    read finished runs, re-render only
 *     --weights  pretrained weights folders, one arm each (default: the shipped models/backbones/resnet-s)
 */
import fs from 'node:fs';
import path from 'node:path';
import { GLYPH_DEFAULTS, makeGlyphs, writePng } from '@cv/data';
import { trainRuns, type RunResult } from './runs';

const EPOCHS = [8, 3];
const LRS = [0.002, 0.004, 0.008];
const COMMON = ['--dataset', 'mnist', '--train-limit', '1000', '--model', 'resnet-s'];
const DEFAULT_WEIGHTS = 'models/backbones/resnet-s';

const option = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
/** A picture of the glyph pretraining set: 16 classes (rows) × 12 draws, upscaled ×2. */
async function glyphGrid(file: string): Promise<void> {
  const rows = 16,
    cols = 12,
    scale = 2;
  const { train } = makeGlyphs({ ...GLYPH_DEFAULTS, trainPerClass: cols, testPerClass: 1 });
  const k = train.classNames.length;
  const w = cols * 28 * scale;
  const out = new Uint8Array(rows * 28 * scale * w);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const img = train.images.subarray((c * k + r) * 784, (c * k + r + 1) * 784); // class r, draw c
      for (let y = 0; y < 28 * scale; y++)
        for (let x = 0; x < 28 * scale; x++) {
          out[(r * 28 * scale + y) * w + c * 28 * scale + x] = img[Math.floor(y / scale) * 28 + Math.floor(x / scale)];
        }
    }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writePng(file, out, [rows * 28 * scale, w, 1]);
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
const signed = (points: number): string => `${points >= 0 ? '+' : ''}${points.toFixed(2)}`;

/** What a weights folder's model card says about its pretraining (data and command), for the table. */
function describeWeights(dir: string): string {
  const file = path.join(dir, 'MODEL_CARD.md');
  const card = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const command = card.match(/\*\*Command:\*\* `([^`]+)`/)?.[1];
  const data = card.match(/\*\*Data:\*\* ([^(;\n]+)/)?.[1]?.trim();
  const test = card.match(/\*\*Test accuracy[^*]*\*\* ([0-9.]+ %)/)?.[1];
  return `\`${dir}\`: ${data ?? 'unknown data'}${test ? ` (pretraining test accuracy ${test})` : ''}${command ? `; \`${command}\`` : ''}`;
}

async function main(): Promise<void> {
  const reuse = process.argv.includes('--reuse');
  const weights = (option('--weights') ?? DEFAULT_WEIGHTS).split(',');
  const seeds = (option('--seeds') ?? '0').split(',').map(Number);
  for (const dir of weights) {
    if (!fs.existsSync(path.join(dir, 'model.json'))) throw new Error(`--weights '${dir}' has no model.json; give a folder written by backbones:pretrain`);
  }
  const root = path.join('runs', 'experiments', 'transfer');
  const arms = [
    { arm: 'scratch', label: 'scratch', flags: [] as string[] },
    ...weights.map((dir) => ({ arm: path.basename(dir), label: `from \`${path.basename(dir)}\``, flags: ['--pretrained', dir] })),
  ];
  if (new Set(arms.map((a) => a.arm)).size !== arms.length) throw new Error('--weights folders must have different names (each names an arm)');
  const jobs = EPOCHS.flatMap((epochs) =>
    LRS.flatMap((lr) =>
      seeds.flatMap((seed) =>
        arms.map(({ arm, flags }) => ({
          key: { epochs, lr, seed, arm },
          name: path.join(arm, `e${epochs}-lr${lr}-s${seed}`),
          args: [...COMMON, '--epochs', String(epochs), '--lr', String(lr), '--seed', String(seed), ...flags],
        })),
      ),
    ),
  );
  const results = await trainRuns(jobs, root, reuse);
  // The date of the runs (the last one to finish), not of this rendering.
  const runDate = results
    .map((r) => r.date)
    .sort()
    .pop()!
    .slice(0, 10);
  const pick = (epochs: number, lr: number, arm: string): RunResult[] =>
    results.filter((_, i) => {
      const k = jobs[i].key;
      return k.epochs === epochs && k.lr === lr && k.arm === arm;
    });
  const testOf = (runs: RunResult[]) => 100 * mean(runs.map((r) => r.accuracy));
  const valOf = (runs: RunResult[]) => 100 * mean(runs.map((r) => r.finalValAccuracy));

  const pre = arms.slice(1);
  const gridRows: string[] = [];
  const tunedRows: string[] = [];
  for (const epochs of EPOCHS) {
    for (const lr of LRS) {
      const s = testOf(pick(epochs, lr, 'scratch'));
      const cells = pre.map(({ arm }) => {
        const p = testOf(pick(epochs, lr, arm));
        return `${p.toFixed(2)} (**${signed(p - s)}**)`;
      });
      const vals = arms.map(({ arm }) => valOf(pick(epochs, lr, arm)).toFixed(1)).join(' / ');
      gridRows.push(`| ${epochs} | ${lr} | ${s.toFixed(2)} | ${cells.join(' | ')} | ${vals} |`);
    }
    const tuned = arms.map(({ arm }) => {
      const lr = LRS.reduce((best, x) => (valOf(pick(epochs, x, arm)) > valOf(pick(epochs, best, arm)) ? x : best));
      return { lr, test: testOf(pick(epochs, lr, arm)) };
    });
    const cells = tuned.slice(1).map((t) => `${t.lr} → ${t.test.toFixed(2)} (**${signed(t.test - tuned[0].test)}**)`);
    tunedRows.push(`| ${epochs} | ${tuned[0].lr} → ${tuned[0].test.toFixed(2)} | ${cells.join(' | ')} |`);
  }
  const head = (first: string[], last: string[]) =>
    `| ${[...first, 'scratch', ...pre.map((a) => `${a.label} (gain)`), ...last].join(' | ')} |\n|${[...first, 'x', ...pre, ...last].map(() => ' ---: ').join('|')}|`;
  const flags = [
    ...(weights.join(',') === DEFAULT_WEIGHTS ? [] : ['--weights', weights.join(',')]),
    ...(seeds.join(',') === '0' ? [] : ['--seeds', seeds.join(',')]),
  ];
  const command = `npx nx run experiments:transfer${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
  const described = weights.map(describeWeights);
  const glyphsShown = described.some((d) => d.includes('glyphs'));
  const md = `# Transfer learning (resnet-s)

Pretrained weights (each a column):
${described.map((d) => `- ${d}`).join('\n')}

Target: a 1,000-image class-balanced MNIST training subset (a seeded 10 % of it — 100 images — held out
for validation), batch 64, Adam with cosine decay, backend wasm; test = the suite's fixed 1,000-image
MNIST test split, never used for any choice. Every arm runs the same budget and the same learning-rate
grid; a pretrained arm loads every backbone layer and starts a fresh 10-class head. Seeds: ${seeds.join(', ')}
(figures are means over seeds). Date: ${runDate}.

Command: \`${command}\`; each run is
\`npx nx run classify:train -- ${COMMON.join(' ')} --epochs E --lr LR --seed S [--pretrained DIR]\`.

${
  glyphsShown
    ? `The glyph pretraining set (\`--dataset glyphs\`, libs/data/src/glyphs.ts): random stroke prototypes — one class per
row, twelve draws each — not letters or digits:

![glyphs](transfer/glyphs.png)

`
    : ''
}## Every grid point (test accuracy %, gain over scratch in points)

${head(['epochs', 'lr'], ['final val acc % (same order)'])}
${gridRows.join('\n')}

## Each arm at the learning rate its own validation accuracy picks (lr → test %)

${head(['epochs'], [])}
${tunedRows.join('\n')}
`;
  if (glyphsShown) await glyphGrid('docs/results/transfer/glyphs.png');
  const out = 'docs/results/transfer.md';
  // Hand-written sections below the generated tables ("## Other …") survive a re-render.
  const kept = fs.existsSync(out)
    ? fs
        .readFileSync(out, 'utf8')
        .split(/\n(?=## Other\b)/)
        .slice(1)
    : [];
  fs.writeFileSync(out, [md, ...kept].join('\n'));
  console.log(md);
  console.log(`written: ${out}`);
}

main().catch((e: Error) => {
  console.error(`error: ${e.message}`);
  process.exitCode = 1;
});
