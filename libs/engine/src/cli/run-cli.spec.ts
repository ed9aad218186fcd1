import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const tsx = path.resolve(here, '../../../../node_modules/.bin/tsx');

describe('runCli', () => {
  it('a failed command prints one line and exits 1 even when something it opened would keep it alive', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-cli-'));
    const script = path.join(dir, 'job.ts');
    fs.writeFileSync(
      script,
      `import { runCli } from ${JSON.stringify(path.join(here, 'run-cli.ts'))};
runCli(async () => {
  setInterval(() => undefined, 1000); // a handle the job forgot, as a loader thread or a progress bar
  throw new Error('the data ran out');
});
`,
    );
    const t0 = performance.now();
    const r = spawnSync(tsx, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('error: the data ran out');
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
