/**
 * Reference backbones against torchvision, full size: for each architecture, a torchvision model with random
 * weights and BatchNorm statistics (tools/bench/torchvision_reference.py, Debian's PyTorch — a yardstick, never a
 * dependency) saved as safetensors and as ONNX (BatchNorm folded), imported, and compared on the same input: every
 * stage's features and the logits. Then the user's path: `backbones:import` and `classify:predict --top 1000
 * --json` on two photos (PNG, JPEG) against torchvision's eval transform + softmax on the same files. Then img/s at
 * 224×224 on this machine, batch 8: inference and a training step (SGD with momentum, cross-entropy). Each
 * architecture runs in its own process (the wasm heap of one does not carry into the next).
 *
 *   npx nx run bench:backbones [-- --python /usr/bin/python3 --dir tmp/torchvision-full --archs resnet18,... --json out.json]
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithReference, createReferenceClassifier, listReferenceBackbones } from '@cv/backbones';
import { initBackend, registerEngineLayers } from '@cv/engine';

const { values: opts } = parseArgs({
  options: {
    python: { type: 'string', default: '/usr/bin/python3' },
    dir: { type: 'string', default: 'tmp/torchvision-full' },
    archs: { type: 'string', default: listReferenceBackbones().join(',') },
    json: { type: 'string' },
    'no-speed': { type: 'boolean', default: false },
  },
});
const archs = opts.archs!.split(',');
const dir = opts.dir!;

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

if (!archs.every((a) => fs.existsSync(path.join(dir, `${a}.predict.json`)))) {
  console.log(`writing torchvision references to ${dir} with ${opts.python} ...`);
  run(opts.python!, [
    'tools/bench/torchvision_reference.py',
    '--out',
    dir,
    '--height',
    '224',
    '--width',
    '224',
    '--classes',
    '1000',
    '--photos',
    '--archs',
    archs.join(','),
  ]);
}

if (archs.length > 1) {
  // One process per architecture: the wasm heap only grows, and ResNet-50 at 224² needs most of its 4 GB.
  const rows = archs.map((arch) => {
    const out = path.join(dir, `bench-${arch}.json`);
    const args = ['tsx', 'tools/bench/src/backbones-bench.ts', '--archs', arch, '--dir', dir, '--python', opts.python!, '--json', out];
    if (opts['no-speed']) args.push('--no-speed');
    const r = spawnSync('npx', args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    process.stdout.write(
      r.stdout
        .split('\n')
        .filter((l) => l.startsWith(arch))
        .join('\n') + '\n',
    );
    if (r.status !== 0) throw new Error(`${arch} failed`);
    return JSON.parse(fs.readFileSync(out, 'utf8')).rows[0];
  });
  if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ date: new Date().toISOString(), dir, rows }, null, 1));
  process.exit(0);
}

registerEngineLayers();
const info = await initBackend();
const rows: Record<string, unknown>[] = [];
for (const arch of archs) {
  const row: Record<string, unknown> = { arch };
  // Speed first, on a fresh heap: ResNet-50's training step at 224² needs most of the wasm backend's 4 GB.
  if (!opts['no-speed']) row.speed = speed(arch);
  for (const ext of ['safetensors', 'onnx'] as const) {
    const c = compareWithReference(dir, arch, ext);
    row[ext] = {
      maxAbs: Math.max(...c.outputs.map((o) => o.maxAbs)),
      maxRel: Math.max(...c.outputs.map((o) => o.maxRel)),
      logitsAbs: c.outputs[c.outputs.length - 1].maxAbs,
      importSeconds: c.importSeconds,
      outputs: c.outputs,
    };
  }
  // The user's path, through the CLI entry points of the Nx targets.
  const out = path.join(dir, `import-${arch}`);
  run('npx', ['tsx', 'apps/classify/src/import-backbone.ts', '--from', path.join(dir, `${arch}.safetensors`), '--arch', arch, '--out', out]);
  const torch = JSON.parse(fs.readFileSync(path.join(dir, `${arch}.predict.json`), 'utf8')) as Record<string, number[]>;
  const images = Object.keys(torch).map((f) => path.join(dir, f));
  const answers = JSON.parse(run('npx', ['tsx', 'apps/classify/src/predict.ts', '--model', out, '--top', '1000', '--json', ...images])) as {
    image: string;
    topK: { index: number; probability: number }[];
  }[];
  row.predict = answers.map((a) => {
    const ref = torch[path.basename(a.image)];
    const maxAbs = Math.max(...a.topK.map((t) => Math.abs(t.probability - ref[t.index])));
    const refTop5 = ref
      .map((p, i) => [p, i])
      .sort((x, y) => y[0] - x[0])
      .slice(0, 5)
      .map(([, i]) => i);
    return {
      image: path.basename(a.image),
      maxAbs,
      top5Same:
        refTop5.join() ===
        a.topK
          .slice(0, 5)
          .map((t) => t.index)
          .join(),
      top1: ref[a.topK[0].index],
    };
  });
  rows.push(row);
  const s = row.safetensors as { maxAbs: number; maxRel: number };
  const o = row.onnx as { maxAbs: number; maxRel: number };
  const p = row.predict as { maxAbs: number; top5Same: boolean }[];
  const sp = row.speed as { inference: number; train: number; trainBatch: number } | undefined;
  console.log(
    `${arch.padEnd(19)} safetensors max|Δ| ${s.maxAbs.toExponential(1)} (rel ${s.maxRel.toExponential(1)})  onnx ${o.maxAbs.toExponential(1)} (rel ${o.maxRel.toExponential(1)})  ` +
      `predict vs torchvision max|Δp| ${Math.max(...p.map((x) => x.maxAbs)).toExponential(1)} top-5 same ${p.every((x) => x.top5Same)}` +
      (sp ? `  224²: infer ${sp.inference.toFixed(1)} img/s (batch 8), train ${sp.train.toFixed(1)} img/s (batch ${sp.trainBatch})` : ''),
  );
}

/**
 * Images per second at 224², batch 8: inference, and a training step (SGD with momentum, cross-entropy). ResNet-50
 * trains at batch 4 here: its larger steps come within reach of the wasm backend's 4 GB heap limit.
 */
function speed(arch: string): { inference: number; train: number; trainBatch: number } {
  const { model } = createReferenceClassifier(arch, { inputShape: [224, 224, 3], numClasses: 10, seed: 0 });
  const trainBatch = arch === 'resnet50' ? 4 : 8;
  const x = tf.randomUniform([8, 224, 224, 3]);
  const xt = tf.slice(x, 0, trainBatch);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: trainBatch }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const time = (batch: number, fn: () => void, reps: number) => {
    fn();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) fn();
    return (batch * reps) / ((performance.now() - t0) / 1000);
  };
  const inference = time(8, () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()), 2);
  const opt = tf.train.momentum(0.01, 0.9);
  const step = () => {
    const cost = opt.minimize(() => tf.mean(tf.metrics.categoricalCrossentropy(y, model.apply(xt, { training: true }) as tf.Tensor)) as tf.Scalar, true);
    cost?.dataSync();
    cost?.dispose();
  };
  const train = time(trainBatch, step, 2);
  tf.dispose([x, xt, y]);
  opt.dispose();
  model.dispose();
  return { inference, train, trainBatch };
}

const result = { date: new Date().toISOString(), backend: info, dir, rows };
if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(result, null, 1));
