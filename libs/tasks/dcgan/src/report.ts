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
