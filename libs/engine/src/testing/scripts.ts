import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: specs run the apps' scripts from it, as a user does. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
/** The tsx that runs the TypeScript entry points. */
export const TSX = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');

/** The environment a script runs in under test: the wasm backend, and no FORCE_COLOR (with NO_COLOR also set, Node warns on stderr). */
export function scriptEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CV_BACKEND: 'wasm' };
  delete env.FORCE_COLOR;
  return env;
}

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A runner of the scripts in `dir` (relative to the repository root) as a user runs them: tsx, cwd = the root,
 * {@link scriptEnv}; it returns the exit code and the output. `timeout` (ms) kills a hung script.
 *
 * @example
 * const run = scriptRunner('apps/detect/src');
 * const r = run('val.ts', ['--model', dir, '--json', out]);
 * expect(r.code, r.stderr).toBe(0);
 */
export function scriptRunner(dir: string, options: { timeout?: number } = {}): (script: string, args: string[]) => ScriptResult {
  return (script, args) => {
    const r = spawnSync(TSX, [path.join(REPO_ROOT, dir, script), ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: scriptEnv(), timeout: options.timeout });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
}
