/**
 * Where one training step of a task's default recipe spends its time, part by part: waiting for the
 * batch (decode, letterbox, augmentation, collation), the forward pass, the loss (its tensor ops, and the
 * JavaScript around them such as the detector's assigner), the backward pass, the optimizer (clipping,
 * Adam), and the step's read-backs. Each part's kernel time is split from its JavaScript time (tfjs's per-op
 * overhead, the assigner). The task's own data and build code make the step, so this is the step users run.
 * The JavaScript heap's collections in the timed steps are counted too (their pauses fall inside the parts).
 *
 *   npx nx run bench:step -- --task detect --steps 30 --data tmp/shapes/train/annotations.json
 *   npx nx run bench:step -- --task detect --steps 10 --shapes --top 80 --data …   (the convolutions layer by layer)
 *   npx nx run bench:step -- --task segment --steps 30 --images tmp/shapes-seg/train/images --masks tmp/shapes-seg/train/masks
 */
import * as tf from '@tensorflow/tfjs';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
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
  shapes: z
    .boolean()
    .default(false)
    .describe("list the convolutions per shape (input, filter, stride), with each shape's median call: a sum well above the medians' means stalls"),
});

/** A boolean option of this bench (given alone, without a value). */
function isFlag(key: string): boolean {
  const field = Schema.shape[key as keyof typeof Schema.shape];
  return field instanceof z.ZodDefault && field.unwrap() instanceof z.ZodBoolean;
}

const PARTS = ['data', 'forward', 'loss', 'backward', 'optimizer', 'readback'] as const;
type Part = (typeof PARTS)[number];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const TASKS: Record<string, TaskDefinition<any, any, any, any>> = { detect: detectTask, segment: segmentTask };

interface Clock {
  part: Part;
  wall: Record<Part, number>;
  kernels: Record<Part, number>;
  byKernel: Map<string, { ms: number; calls: number; times: number[] }>;
}

/** Every kernel of the backend, wrapped with a clock that charges the part running now. */
function instrument(backend: string, clock: Clock, shapes: boolean): void {
  instrumentKernels(backend, (name, ms, args) => {
    clock.kernels[clock.part] += ms;
    const key = shapes && CONVOLUTIONS.has(name) ? `${clock.part}:${name} ${convShape(name, args)}` : `${clock.part}:${name}`;
    const e = clock.byKernel.get(key) ?? { ms: 0, calls: 0, times: [] };
    e.ms += ms;
    e.calls++;
    e.times.push(ms);
    clock.byKernel.set(key, e);
  });
}

const CONVOLUTIONS = new Set(['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);

/** `HxWxC k×k/s →C'` of a convolution kernel call (the forward layer's geometry, whichever of its three kernels it is). */
function convShape(name: string, args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap }): string {
  const { inputs, attrs = {} } = args;
  const s = Array.isArray(attrs.strides) ? (attrs.strides as number[])[0] : (attrs.strides as number);
  const x = name === 'Conv2DBackpropInput' ? (attrs.inputShape as number[]) : inputs.x!.shape;
  const f = name === 'Conv2DBackpropFilter' ? (attrs.filterShape as number[]) : inputs.filter!.shape;
  return `${x[1]}x${x[2]}x${x[3]} ${f[0]}x${f[1]}/${s} ->${f[3]}`;
}

const zero = (): Record<Part, number> => Object.fromEntries(PARTS.map((p) => [p, 0])) as Record<Part, number>;

async function main(argv: string[]): Promise<void> {
  // This bench's own options; every other option is the task's.
  const own: string[] = [];
  const taskArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '').split('=')[0];
    if (!(key in Schema.shape)) taskArgv.push(argv[i]);
    else if (isFlag(key) || argv[i].includes('=')) own.push(argv[i]);
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
  instrument(backend.name, clock, config.shapes);

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
  // The JavaScript heap's collections during the timed steps (main-thread pauses, by kind).
  const gc = { from: Infinity, to: Infinity, count: 0, ms: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      if (e.startTime < gc.from || e.startTime > gc.to) continue;
      gc.count++;
      gc.ms += e.duration;
      if (e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  for (let i = 0; i < total; i++) {
    if (i === 3) {
      clock.wall = zero();
      clock.kernels = zero();
      clock.byKernel.clear();
      t0 = performance.now();
      mark = t0;
      gc.from = t0;
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
  gc.to = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 100)); // entries arrive on the event loop
  observer.disconnect();
  const collections = { perStep: gc.count / timed, msPerStep: gc.ms / timed, major: gc.major };
  const rows = PARTS.map((p) => ({ part: p, ms: clock.wall[p] / timed, kernelMs: clock.kernels[p] / timed }));
  fs.rmSync(runDir, { recursive: true, force: true });
  const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];
  const kernels = [...clock.byKernel.entries()].map(([k, v]) => [k, { ...v, median: median(v.times) }] as const).sort((a, b) => b[1].ms - a[1].ms);
  const convs = kernels.filter(([k]) => CONVOLUTIONS.has(k.split(/[: ]/)[1]));
  const convMs = convs.reduce((s, [, v]) => s + v.ms, 0) / timed;
  const convMedianMs = convs.reduce((s, [, v]) => s + v.median * v.calls, 0) / timed;
  if (config.json) {
    console.log(
      JSON.stringify({
        task: config.task,
        batch: images / timed,
        msPerStep: ms,
        imgPerS: (images / timed / ms) * 1000,
        parts: rows,
        collections,
        kernels: kernels
          .slice(0, config.shapes ? kernels.length : 40)
          .map(([k, v]) => ({ kernel: k, ms: v.ms / timed, calls: v.calls / timed, medianMs: v.median })),
        ...(config.shapes ? { convolutionMs: convMs, convolutionAtMediansMs: convMedianMs } : {}),
      }),
    );
    return;
  }
  console.log(
    `${config.task} step, batch ${images / timed}: ${ms.toFixed(1)} ms/step (${((images / timed / ms) * 1000).toFixed(0)} img/s), ${backend.name}, ${precision} convolutions`,
  );
  console.log(
    `collections: ${collections.perStep.toFixed(2)} per step, ${collections.msPerStep.toFixed(1)} ms/step of main-thread pauses (${collections.major} major in ${timed} steps)`,
  );
  console.log('| part | ms/step | in kernels | JavaScript | share |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${r.part} | ${r.ms.toFixed(1)} | ${r.kernelMs.toFixed(1)} | ${(r.ms - r.kernelMs).toFixed(1)} | ${((r.ms / ms) * 100).toFixed(0)} % |`);
  }
  if (config.top) {
    console.log('\nkernels (part:kernel, ms/step, calls/step, median ms per call):');
    for (const [k, v] of kernels.slice(0, config.top))
      console.log(
        `${k.padEnd(config.shapes ? 64 : 40)} ${(v.ms / timed).toFixed(2).padStart(7)} ms ${(v.calls / timed).toFixed(0).padStart(5)} ${v.median.toFixed(3).padStart(8)}`,
      );
  }
  if (config.shapes) console.log(`\nconvolutions: ${convMs.toFixed(1)} ms/step; ${convMedianMs.toFixed(1)} ms/step if every call took its shape's median`);
}

runCli(main, { schema: Schema, usage: "npx nx run bench:step -- --task detect|segment [--steps 30] [--json] <the task's train options>" });
