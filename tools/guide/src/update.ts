/**
 * `npx nx run guide:update [-- page.md ...]`: rewrites every example's code block from its file and every
 * output block from a fresh run (fails, writing nothing for that page, when a block's run fails).
 */
import fs from 'node:fs';
import path from 'node:path';
import { guidePages, normalise, pageBlocks, ROOT, runBlock } from './pages';

const only = process.argv.slice(2).map((p) => path.resolve(p));
let failed = 0;
for (const page of guidePages().filter((p) => !only.length || only.includes(p))) {
  let md = fs.readFileSync(page, 'utf8');
  const edits: { start: number; end: number; text: string }[] = [];
  for (const b of pageBlocks(page)) {
    if (b.code) edits.push({ ...b.code, text: normalise(fs.readFileSync(path.join(ROOT, b.target), 'utf8')) });
    const r = runBlock(b);
    if (r.code !== 0) {
      console.error(`${path.relative(ROOT, page)}: '${b.target}' failed (exit ${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      failed++;
      continue;
    }
    if (!b.output) {
      console.error(`${path.relative(ROOT, page)}: '${b.target}' has no \`\`\`text output block after it`);
      failed++;
      continue;
    }
    edits.push({ ...b.output, text: r.stdout });
  }
  for (const e of edits.sort((a, b) => b.start - a.start)) md = md.slice(0, e.start) + e.text + md.slice(e.end);
  fs.writeFileSync(page, md);
  console.log(`updated ${path.relative(ROOT, page)}`);
}
process.exit(failed ? 1 : 0);
