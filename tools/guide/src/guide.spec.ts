/**
 * The guide's examples run, and each page shows what they are and print: a broken example, an edited
 * example not copied to its page, or a printed number that changed fails here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, guidePages, normalise, pageBlocks, ROOT, runBlock } from './pages';

const pages = guidePages();
const blocks = pages.flatMap((p) => pageBlocks(p));

describe('the guide', () => {
  it('has its ten chapters and every example file is on a page', () => {
    expect(pages.length).toBeGreaterThanOrEqual(10);
    const shown = new Set(blocks.filter((b) => b.kind === 'example').map((b) => path.resolve(ROOT, b.target)));
    for (const f of fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts'))) expect(shown.has(path.join(EXAMPLES, f)), `${f} is on no page`).toBe(true);
  });

  it.each(blocks.map((b) => [`${path.basename(b.page)}: ${b.target}`, b] as const))('%s runs and prints what the page shows', (_, b) => {
    if (b.code)
      expect(b.code.text, `the code on ${path.basename(b.page)} differs from ${b.target}; run npx nx run guide:update`).toBe(
        normalise(fs.readFileSync(path.join(ROOT, b.target), 'utf8')),
      );
    expect(b.output, `no output block after ${b.target}`).not.toBeNull();
    const r = runBlock(b);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(r.stdout, `${b.target} prints something else than ${path.basename(b.page)} shows; run npx nx run guide:update`).toBe(b.output!.text);
  });
});
