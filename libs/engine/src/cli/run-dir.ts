import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { ConfigError, parseArgs } from './args';

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

/** The per-epoch history of a run (`metrics.jsonl`), or [] if there is none. */
export function readHistory(runDir: string): Record<string, number>[] {
  const file = path.join(runDir, 'metrics.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
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

/** The camel-case config keys of the `--flags` on a command line. */
function givenKeys(argv: string[]): string[] {
  return argv
    .filter((a) => a.startsWith('--'))
    .map((a) =>
      a
        .slice(2)
        .split('=')[0]
        .replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
    );
}

/** dataWorkers → data-workers, as the option is written. */
const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * A training command's config and run folder: a fresh run (`--out`, else the next `<root>/exp…`), or with
 * `--resume <runDir>` the run's saved `args.json`, where only the keys in `mayChange` may be given again.
 *
 * @example
 * const { cfg, runDir, resume } = resolveRun(ClassifyTrainSchema, argv, { root: 'runs/classify', writer: 'classify:train', mayChange: ['epochs'] });
 */
export function resolveRun<S extends z.ZodObject>(
  schema: S,
  argv: string[],
  { root, writer, mayChange }: { root: string; writer: string; mayChange: string[] },
): { cfg: Readonly<z.infer<S>>; runDir: string; resume: boolean } {
  const { config } = parseArgs(schema, argv);
  const { resume, out } = config as { resume?: string; out?: string };
  if (!resume) return { cfg: config, runDir: out ?? nextRunDir(root), resume: false };
  const given = givenKeys(argv);
  const changed = given.filter((k) => k !== 'resume' && !mayChange.includes(k));
  if (changed.length) {
    const keys = mayChange.filter((k) => k in schema.shape); // the keys this command has
    throw new ConfigError(
      `--resume continues a run with its saved config; only ${keys.map((k) => `--${kebab(k)}`).join(', ')} may change (got --${changed[0]})`,
    );
  }
  const { backend: _b, kernels: _k, ...saved } = readRunArgs(resume, writer); // what ran it, not settings
  const changes = Object.fromEntries(mayChange.filter((k) => given.includes(k)).map((k) => [k, (config as Record<string, unknown>)[k]]));
  const cfg = Object.freeze(schema.parse({ ...saved, ...changes, resume, out: resume })) as Readonly<z.infer<S>>;
  return { cfg, runDir: resume, resume: true };
}
