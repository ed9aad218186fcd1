/**
 * The guide's runnable blocks. A page (docs/guide/*.md) marks each one with a comment, followed by the code
 * (for an example file) and the output it prints:
 *
 *   <!-- example: examples/guide/01-convolution.ts -->      the next ```ts block is that file, verbatim
 *   <!-- command: npx tsx apps/sequence/src/train.ts --help -->   a shell command (no code block)
 *   Output: ```text ... ```                                  what it prints, exactly
 *
 * `guide:update` rewrites the code and output blocks from the files and their runs; the guide test fails
 * when a page's code or printed numbers differ from what the examples are and print.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const GUIDE = path.join(ROOT, 'docs', 'guide');
export const EXAMPLES = path.join(ROOT, 'examples', 'guide');

export interface Block {
  page: string;
  kind: 'example' | 'command';
  /** The example file (repo-relative) or the command line. */
  target: string;
  /** Offsets in the page: the code block (examples only) and the output block. */
  code: { start: number; end: number; text: string } | null;
  output: { start: number; end: number; text: string } | null;
}

const MARKER = /<!-- (example|command): (.+?) -->/g;

/** The fenced block of `lang` starting at or after `from` (before the next marker), or null. */
function fenceAfter(md: string, from: number, lang: string, limit: number): Block['code'] {
  const open = md.indexOf('```' + lang + '\n', from);
  if (open < 0 || open > limit) return null;
  const start = open + lang.length + 4;
  const end = md.indexOf('\n```', start - 1);
  return { start, end: end + 1, text: md.slice(start, end + 1) };
}

export function pageBlocks(page: string): Block[] {
  const md = fs.readFileSync(page, 'utf8');
  const markers = [...md.matchAll(MARKER)];
  return markers.map((m, i) => {
    const limit = i + 1 < markers.length ? markers[i + 1].index! : md.length;
    const after = m.index! + m[0].length;
    const kind = m[1] as Block['kind'];
    const code = kind === 'example' ? fenceAfter(md, after, 'ts', limit) : null;
    const output = fenceAfter(md, code ? code.end : after, 'text', limit);
    return { page, kind, target: m[2].trim(), code, output };
  });
}

export function guidePages(): string[] {
  return fs
    .readdirSync(GUIDE)
    .filter((f) => f.endsWith('.md') && f !== 'README.md')
    .sort()
    .map((f) => path.join(GUIDE, f));
}

/** Runs an example (tsx) or a command (bash) from the repository root; returns what it prints. */
export function runBlock(block: Pick<Block, 'kind' | 'target'>): { code: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, CV_BACKEND: 'wasm', NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const r =
    block.kind === 'example'
      ? spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [block.target], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 })
      : spawnSync('bash', ['-c', block.target], { cwd: ROOT, encoding: 'utf8', env, timeout: 120_000 });
  return { code: r.status, stdout: normalise(r.stdout ?? ''), stderr: r.stderr ?? '' };
}

/** Trailing spaces and blank lines at the end do not count. */
export const normalise = (s: string) =>
  s
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '') + '\n';
