/**
 * Where one training step of a task's default recipe spends its time, part by part: waiting for the
 * batch (decode, letterbox, augmentation, collation), the forward pass, the loss (its tensor ops, and the
 * JavaScript around them such as the detector's assigner), the backward pass, the optimizer (clipping,
 * Adam), and the step's read-backs. Each part's kernel time is split from its JavaScript time (tfjs's per-op
 * overhead, the assigner). The task's own data and build code make the step, so this is the step users run.
 *
 *   npx nx run bench:step -- --task detect --steps 30 --data tmp/shapes/train/annotations.json
 *   npx nx run bench:step -- --task segment --steps 30 --images tmp/shapes-seg/train/images --masks tmp/shapes-seg/train/masks
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { initBackend, parseArgs, resolvePrecision, runCli, withTrainingPrecision, type Precision, type StepContext, type TaskDefinition } from '@cv/engine';
import type { OptimizationStep } from '@cv/engine/core';
import { detectTask } from '@cv/tasks-detect';
import { segmentTask } from '@cv/tasks-segment';
import { z } from 'zod';
import { instrumentKernels } from './instrument';

const Schema = z.object({
  task: z.enum(['detect', 'segment']).describe('the task whose default training step is profiled'),
  steps: z.number().int().positive().default(30).describe('timed steps (after 3 warm-up steps)'),
  top: z.number().int().min(0).default(12).describe('kernels listed per part'),
  json: z.boolean().default(false).describe('print the parts as one JSON object'),
});

const PARTS = ['data', 'forward', 'loss', 'backward', 'optimizer', 'readback'] as const;
type Part = (typeof PARTS)[number];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const TASKS: Record<string, TaskDefinition<any, any, any, any>> = { detect: detectTask, segment: segmentTask };

interface Clock {
  part: Part;
  wall: Record<Part, number>;
  kernels: Record<Part, number>;
  byKernel: Map<string, { ms: number; calls: number }>;
}

/** Every kernel of the backend, wrapped with a clock that charges the part running now. */
function instrument(backend: string, clock: Clock): void {
  instrumentKernels(backend, (name, ms) => {
    clock.kernels[clock.part] += ms;
    const key = `${clock.part}:${name}`;
    const e = clock.byKernel.get(key) ?? { ms: 0, calls: 0 };
    e.ms += ms;
    e.calls++;
    clock.byKernel.set(key, e);
  });
}

const zero = (): Record<Part, number> => Object.fromEntries(PARTS.map((p) => [p, 0])) as Record<Part, number>;

async function main(argv: string[]): Promise<void> {
  // This bench's own options; every other option is the task's.
  const own: string[] = [];
  const taskArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '').split('=')[0];
    if (!(key in Schema.shape)) taskArgv.push(argv[i]);
    else if (key === 'json' || argv[i].includes('=')) own.push(argv[i]);
    else own.push(argv[i], argv[++i]);
  }
  const { config } = parseArgs(Schema, own);
  const def = TASKS[config.task];
  const cfg = parseArgs(def.schema, taskArgv).config as Record<string, unknown> & { threads?: number; seed: number; batchSize: number };
  const backend = await initBackend({ log: true, threads: cfg.threads });
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-step-'));
  const ctx = { cfg, runDir, resume: false, main: false, backend };
  const data = await def.data(ctx);
  const { task } = await def.build(data, ctx);
  const clock: Clock = { part: 'data', wall: zero(), kernels: zero(), byKernel: new Map() };
  instrument(backend.name, clock);

  // The task's optimisation step, split at its seams: forward + loss inside variableGrads, the gradients, the update.
  const step = (task as unknown as { step: OptimizationStep }).step;
  const model = task.models.model;
  const apply = model.apply.bind(model);
  let mark = performance.now();
  const enter = (part: Part) => {
    const now = performance.now();
    clock.wall[clock.part] += now - mark;
    mark = now;
    clock.part = part;
  };
  model.apply = ((x: tf.Tensor, kw: object) => {
    enter('forward');
    const y = apply(x, kw);
    enter('loss');
    return y;
  }) as typeof model.apply;
  step.run = (loss, vars, sctx) =>
    tf.tidy(() => {
      enter('loss');
      const { value, grads } = tf.variableGrads(() => {
        const v = loss();
        enter('backward');
        return v;
      }, vars);
      enter('optimizer');
      step.accumulate(grads, vars, sctx);
      enter('readback');
      return value;
    });

  const precision = resolvePrecision((cfg.precision as Precision | undefined) ?? 'f32', backend.name);
  const total = 3 + config.steps;
  const it = task.batches(0, cfg.seed, 100)[Symbol.asyncIterator]();
  let timed = 0;
  let images = 0;
  let t0 = 0;
  for (let i = 0; i < total; i++) {
    if (i === 3) {
      clock.wall = zero();
      clock.kernels = zero();
      clock.byKernel.clear();
      t0 = performance.now();
      mark = t0;
    }
    enter('data');
    let r = await it.next();
    if (r.done)
      r = await task
        .batches(1, cfg.seed + 1, 100)
        [Symbol.asyncIterator]()
        .next();
    enter('readback');
    const sctx: StepContext = { epoch: 0, globalStep: i, batchIndex: i, stepsPerEpoch: task.stepsPerEpoch, rank: 0, worldSize: 1, reduceGradients: (g) => g };
    await withTrainingPrecision(precision, () => task.trainStep(r.value, sctx));
    if (i >= 3) {
      timed++;
      images += task.batchSize(r.value);
    }
  }
  enter('data');
  const ms = (performance.now() - t0) / timed;
  const rows = PARTS.map((p) => ({ part: p, ms: clock.wall[p] / timed, kernelMs: clock.kernels[p] / timed }));
  const kernels = [...clock.byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  if (config.json) {
    console.log(
      JSON.stringify({
        task: config.task,
        batch: images / timed,
        msPerStep: ms,
        imgPerS: (images / timed / ms) * 1000,
        parts: rows,
        kernels: kernels.slice(0, 40).map(([k, v]) => ({ kernel: k, ms: v.ms / timed, calls: v.calls / timed })),
      }),
    );
    return;
  }
  console.log(
    `${config.task} step, batch ${images / timed}: ${ms.toFixed(1)} ms/step (${((images / timed / ms) * 1000).toFixed(0)} img/s), ${backend.name}, ${precision} convolutions`,
  );
  console.log('| part | ms/step | in kernels | JavaScript | share |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${r.part} | ${r.ms.toFixed(1)} | ${r.kernelMs.toFixed(1)} | ${(r.ms - r.kernelMs).toFixed(1)} | ${((r.ms / ms) * 100).toFixed(0)} % |`);
  }
  if (config.top) {
    console.log('\nkernels (part:kernel, ms/step, calls/step):');
    for (const [k, v] of kernels.slice(0, config.top))
      console.log(`${k.padEnd(40)} ${(v.ms / timed).toFixed(2).padStart(7)} ms ${(v.calls / timed).toFixed(0).padStart(5)}`);
  }
  fs.rmSync(runDir, { recursive: true, force: true });
}

runCli(main, { schema: Schema, usage: "npx nx run bench:step -- --task detect|segment [--steps 30] [--json] <the task's train options>" });
