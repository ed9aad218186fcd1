import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface RunResult {
  name: string;
  args: string[];
  runDir: string;
  accuracy: number;
  trainAccuracy: number;
  trainSeconds: number;
  epochs: number;
}

/**
 * Runs `classify:train` (as a user would, in its own process) and reads its report.json. With `reuse`, a
 * finished run of the same arguments is read instead of trained again (to re-render tables and plots).
 */
export function trainRun(name: string, args: string[], runRoot: string, reuse = false): RunResult {
  const runDir = path.join(runRoot, name);
  const full = [...args, '--out', runDir];
  const argsFile = path.join(runDir, 'args.json');
  const done = reuse && fs.existsSync(path.join(runDir, 'report.json')) && fs.existsSync(argsFile);
  if (!done) {
    console.log(`\n== ${name}: npx nx run classify:train -- ${full.join(' ')}`);
    const r = spawnSync(path.resolve('node_modules/.bin/tsx'), ['apps/classify/src/train.ts', ...full], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`run '${name}' failed (exit ${r.status})`);
  }
  const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
  return { name, args, runDir, accuracy: report.accuracy, trainAccuracy: report.trainAccuracy, trainSeconds: report.trainSeconds, epochs: report.epochs };
}

export const pct = (v: number) => (100 * v).toFixed(2);
