import fs from 'node:fs';
import path from 'node:path';
import { writePng } from '@cv/data';
import { writeFileAtomic } from '@cv/engine';
import type { GeneratorScores } from './evaluate';
import type { Samples } from './predictor';
import { imageGrid } from './sampling';

/** report.md of a generator's scores (dcgan:val and the end of dcgan:train). */
export function ganMarkdown(
  r: Record<string, unknown> & { fid?: number | null; fidFloor: number | null; meanConfidence?: number | null; classEntropy?: number | null },
  image = 'plots/samples.png',
): string {
  const f = (v: unknown, d = 4) => (typeof v === 'number' ? v.toFixed(d) : 'n/a');
  return [
    `# DCGAN report — ${r.dataset}`,
    '',
    'Samples judged by a classifier of the same dataset: FID on its penultimate features against the real training images',
    '(the floor is the real test images at the same statistics: what a perfect generator would score), the mean top',
    'probability, and the entropy of the predicted-class histogram / log K (1 = every class equally often).',
    '',
    '| metric | value |',
    '| --- | --- |',
    `| FID | ${f(r.fid, 2)} |`,
    `| FID floor (real vs real) | ${f(r.fidFloor, 2)} |`,
    `| mean confidence | ${f(r.meanConfidence)} |`,
    `| class entropy | ${f(r.classEntropy)} |`,
    ...Object.entries(r)
      .filter(([k, v]) => !['fid', 'fidFloor', 'meanConfidence', 'classEntropy', 'history', 'final'].includes(k) && typeof v !== 'object')
      .map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `![samples](${image})`,
    '',
  ].join('\n');
}

/** `dcgan:val --out`: report.json, report.md and plots/samples.png (the first 64 samples). */
export async function writeGeneratorReport(dir: string, scores: GeneratorScores, samples: Samples, info: Record<string, unknown>): Promise<void> {
  const size = samples.shape.reduce((a, b) => a * b);
  const n = Math.min(64, samples.images.length / size);
  const grid = imageGrid(samples.images.subarray(0, n * size), samples.shape, Math.ceil(Math.sqrt(n)));
  fs.mkdirSync(path.join(dir, 'plots'), { recursive: true });
  await writePng(path.join(dir, 'plots', 'samples.png'), grid.pixels, grid.shape);
  const report = { ...scores, ...info, date: new Date().toISOString() };
  writeFileAtomic(path.join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(path.join(dir, 'report.md'), ganMarkdown(report));
}

/** One image (0..1, HWC) as a PNG without a frame. */
export async function writeImagePng(file: string, image: Float32Array, shape: [number, number, number]): Promise<void> {
  const { pixels } = imageGrid(image, shape, 1, 0);
  await writePng(file, pixels, shape);
}
