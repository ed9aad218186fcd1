import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config';

/** The next free `runs/<app>/exp`, `exp2`, `exp3`, ... (Ultralytics-style). */
export function nextRunDir(root: string, base = 'exp'): string {
  for (let i = 1; ; i++) {
    const dir = path.join(root, i === 1 ? base : `${base}${i}`);
    if (!fs.existsSync(dir)) return dir;
  }
}

/** Reads a run's `args.json`, or fails with the fix; `writer` names the command that makes such runs. */
export function readRunArgs(runDir: string, writer = 'classify:train'): Record<string, unknown> {
  const file = path.join(runDir, 'args.json');
  if (!fs.existsSync(file)) throw new Error(`'${runDir}' is not a run directory (no args.json); pass a folder written by ${writer}`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** A fresh run may reuse a previous run's folder (it is cleared), never an unrelated non-empty folder. */
export function prepareRunDir(runDir: string): void {
  if (fs.existsSync(runDir) && fs.readdirSync(runDir).length > 0) {
    if (!fs.existsSync(path.join(runDir, 'args.json'))) {
      throw new ConfigError(`--out '${runDir}' is a non-empty folder that is not a run; choose another --out`);
    }
    fs.rmSync(runDir, { recursive: true, force: true });
  }
  fs.mkdirSync(runDir, { recursive: true });
}

/**
 * The flags given on a `--resume` command line that are not allowed to change (everything but `allowed`,
 * by camel-case key); a resumed run keeps its saved config.
 */
export function changedOnResume(argv: string[], allowed: Set<string>): string[] {
  const given = argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]);
  return given.filter((k) => !allowed.has(k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())));
}
