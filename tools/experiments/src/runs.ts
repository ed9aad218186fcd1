import { spawn, spawnSync } from 'node:child_process';
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
  /** Validation accuracy after the last epoch (metrics.csv), NaN when the run had no validation split. */
  finalValAccuracy: number;
  /** When the run finished (report.json), ISO 8601. */
  date: string;
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
  return readRun(name, args, runDir);
}

function readRun(name: string, args: string[], runDir: string): RunResult {
  const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8'));
  const csv = fs.readFileSync(path.join(runDir, 'metrics.csv'), 'utf8').trim().split('\n');
  const col = csv[0].split(',').indexOf('val_accuracy');
  const finalValAccuracy = col >= 0 && csv.length > 1 ? Number(csv[csv.length - 1].split(',')[col]) : NaN;
  return {
    name,
    args,
    runDir,
    accuracy: report.accuracy,
    trainAccuracy: report.trainAccuracy,
    trainSeconds: report.trainSeconds,
    epochs: report.epochs,
    finalValAccuracy,
    date: String(report.date ?? ''),
  };
}

/**
 * Like `trainRun` for many runs, `lanes` at a time (each classify:train process uses one core), each
 * run's output going to `<runDir>.log`; results in the order of `jobs`. Throws after all lanes stop if
 * any run failed.
 */
export async function trainRuns(jobs: { name: string; args: string[] }[], runRoot: string, reuse = false, lanes = 2): Promise<RunResult[]> {
  const queue = jobs.map((job, i) => ({ ...job, i }));
  const failed: string[] = [];
  let finished = 0;
  const lane = async (): Promise<void> => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      const runDir = path.join(runRoot, job.name);
      if (reuse && fs.existsSync(path.join(runDir, 'report.json')) && fs.existsSync(path.join(runDir, 'args.json'))) continue;
      const full = [...job.args, '--out', runDir];
      fs.mkdirSync(path.dirname(runDir), { recursive: true });
      const log = fs.openSync(`${runDir}.log`, 'w');
      console.log(`start ${job.name}: npx nx run classify:train -- ${full.join(' ')}`);
      const code = await new Promise<number | null>((resolve) => {
        spawn(path.resolve('node_modules/.bin/tsx'), ['apps/classify/src/train.ts', ...full], { stdio: ['ignore', log, log] }).on('close', resolve);
      });
      fs.closeSync(log);
      finished++;
      if (code !== 0) failed.push(`${job.name} (exit ${code}, see ${runDir}.log)`);
      else console.log(`done  ${job.name} [${finished}/${jobs.length}]: test ${pct(readRun(job.name, job.args, runDir).accuracy)} %`);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
  if (failed.length) throw new Error(`runs failed: ${failed.join('; ')}`);
  return jobs.map((job) => readRun(job.name, job.args, path.join(runRoot, job.name)));
}

export const pct = (v: number) => (100 * v).toFixed(2);
