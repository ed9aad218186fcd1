/**
 * Where a training (or inference) step of a bench network spends its time, kernel by kernel: every
 * registered kernel of the current backend is wrapped with a clock, then N steps run after 3 warm-up steps.
 * "other" is what the step spends outside kernels (tfjs's per-op JavaScript, the tape, the optimizer's JS).
 *
 *   npx nx run bench:kernels -- --net yolo-stage [--mode train|infer] [--steps 20]
 */
import { initBackend, parseArgs } from '@cv/engine';
import { z } from 'zod';
import { BENCH_NETS } from './architectures';
import { benchSteps } from './bench-steps';
import { instrumentKernels } from './instrument';

const Schema = z.object({
  net: z.string().default('reference-cnn').describe('bench network (reference-cnn, unet-stage, yolo-stage)'),
  mode: z.enum(['train', 'infer']).default('train').describe('a training step or a prediction'),
  steps: z.number().int().positive().default(20).describe('timed steps'),
  top: z.number().int().positive().default(25).describe('kernels listed'),
});

/** Every kernel of the backend wrapped with a clock; returns the table it fills. */
function instrument(backend: string): Map<string, { ms: number; calls: number }> {
  const times = new Map<string, { ms: number; calls: number }>();
  instrumentKernels(backend, (name, ms) => {
    const e = times.get(name) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    times.set(name, e);
  });
  return times;
}

async function main(): Promise<void> {
  const { config } = parseArgs(
    Schema,
    process.argv.slice(2).filter((a) => a !== '--'),
  );
  const net = BENCH_NETS.find((n) => n.name === config.net);
  if (!net) throw new Error(`--net '${config.net}' is not a bench network; use one of: ${BENCH_NETS.map((n) => n.name).join(', ')}`);
  const backend = await initBackend();
  const times = instrument(backend.name);
  const bench = benchSteps(net);
  const step = config.mode === 'train' ? bench.train : bench.infer;
  for (let i = 0; i < 3; i++) step();
  times.clear();
  const t0 = performance.now();
  for (let i = 0; i < config.steps; i++) step();
  const total = (performance.now() - t0) / config.steps;
  const rows = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, v]) => s + v.ms, 0) / config.steps;
  const calls = rows.reduce((s, [, v]) => s + v.calls, 0) / config.steps;
  console.log(
    `${net.name} ${config.mode}: ${total.toFixed(2)} ms/step; kernels ${inKernels.toFixed(2)} ms; other ${(total - inKernels).toFixed(2)} ms; ${calls} kernel calls/step`,
  );
  for (const [name, v] of rows.slice(0, config.top)) {
    console.log(`${name.padEnd(30)} ${(v.ms / config.steps).toFixed(2).padStart(7)} ms  ${(v.calls / config.steps).toFixed(0)} calls`);
  }
  bench.dispose();
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
});
