import fs from 'node:fs';
import path from 'node:path';

/** The next free `runs/<app>/exp`, `exp2`, `exp3`, ... (Ultralytics-style). */
export function nextRunDir(root: string, base = 'exp'): string {
  for (let i = 1; ; i++) {
    const dir = path.join(root, i === 1 ? base : `${base}${i}`);
    if (!fs.existsSync(dir)) return dir;
  }
}

/** Reads a run's `args.json`, or fails with the fix. */
export function readRunArgs(runDir: string): Record<string, unknown> {
  const file = path.join(runDir, 'args.json');
  if (!fs.existsSync(file)) throw new Error(`'${runDir}' is not a run directory (no args.json); pass a folder written by classify:train`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}
