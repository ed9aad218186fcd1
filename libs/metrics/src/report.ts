import fs from 'node:fs';
import path from 'node:path';
import type { ClassificationReport } from './classification';

const pct = (v: number) => (100 * v).toFixed(2);

/** Markdown for a classification report: headline figures, per-class table, averages. */
export function classificationMarkdown(title: string, report: ClassificationReport, extra: Record<string, unknown> = {}): string {
  const lines = [`# ${title}`, '', `- accuracy: **${pct(report.accuracy)} %**`];
  for (const [k, v] of Object.entries(extra)) lines.push(`- ${k}: ${typeof v === 'number' ? +v.toFixed(6) : v}`);
  lines.push('', '| class | precision | recall | F1 | support |', '|---|---:|---:|---:|---:|');
  for (const c of report.perClass) lines.push(`| ${c.className} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.f1)} | ${c.support} |`);
  for (const [name, a] of [
    ['macro avg', report.macro],
    ['weighted avg', report.weighted],
  ] as const) {
    lines.push(`| *${name}* | ${pct(a.precision)} | ${pct(a.recall)} | ${pct(a.f1)} | ${a.support} |`);
  }
  return lines.join('\n') + '\n';
}

/** Temp file then rename, so a killed job never leaves a truncated report. */
function writeFileAtomic(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * Writes `report.json` (machine) and `report.md` (human) into `dir`, each atomically.
 *
 * @example
 * writeReport('runs/classify/exp', { accuracy: 0.91, ... }, markdown);
 */
export function writeReport(dir: string, json: Record<string, unknown>, markdown: string): void {
  writeFileAtomic(path.join(dir, 'report.json'), JSON.stringify(json, null, 2) + '\n');
  writeFileAtomic(path.join(dir, 'report.md'), markdown);
}
