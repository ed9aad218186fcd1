import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const fixture = path.join(root, 'libs/engine/src/train/fixtures/replicas-main.ts');
const run = (env: Record<string, string> = {}) =>
  spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [fixture], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

describe('data-parallel replicas (worker threads + shared memory)', () => {
  it('all-reduce gives every replica the mean; broadcast gives replica 0’s value', () => {
    const r = run();
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.worldSize).toBe(2);
    // ranks 0 and 1 contribute [rank + step, 10·rank, 1]
    expect(out.seen).toEqual([
      [0.5, 5, 1],
      [1.5, 5, 1],
      [2.5, 5, 1],
    ]);
    expect(out.shared).toEqual({ from: 0, note: 'main only' });
  });

  it.each(['0', '1'])('a replica that fails (rank %s) stops the job instead of hanging it', (failRank) => {
    const r = run({ FAIL_RANK: failRank });
    expect(r.error).toBeUndefined(); // not killed by the timeout
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`replica ${failRank} fails on purpose`));
  });
});
