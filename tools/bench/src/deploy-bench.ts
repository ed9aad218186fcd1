/**
 * One size / speed / accuracy table for every shipped model and its deployment variants (fp32, float16,
 * uint8, ONNX, magnitude-pruned 50 % / 80 %, channel-pruned): file size raw and gzipped, the task's metric
 * from its own val command on the same set, inference img/s in tfjs wasm (pure kernels and oneDNN) and ONNX
 * Runtime (1 thread and all cores), ONNX parity on real inputs, and PyTorch's figure for the same
 * architecture where tools/bench/torch_bench.py has it. Writes docs/results/deploy.md (+ deploy.json).
 *
 * The pruned variants are made by the tasks' prune commands into `<work>/<model>/{p50,p80,channel}` (the
 * commands are printed in the table for those missing); the others are exported here.
 *
 *   npx nx run bench:deploy [-- --work tmp/deploy --out docs/results/deploy.md --models fashion-mnist,detect-shapes]
 */
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { decodeImage, listImages, loadClassificationDataset } from '@cv/data';
import {
  exportModel,
  exportOnnx,
  inferenceForm,
  initBackend,
  loadModel,
  loadOneDnnAddon,
  modelToOnnx,
  OnnxModel,
  registerOneDnnKernels,
  unitRange,
  unregisterOneDnnKernels,
  writeFileAtomic,
} from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';

const VAL = 'tmp/shapes/val';
interface Shipped {
  id: string;
  task: 'classify' | 'detect' | 'segment' | 'dcgan';
  dir: string;
  metric: string;
  val?: string[];
  prune?: string;
  torch?: string;
}
const SHIPPED: Shipped[] = [
  {
    id: 'fashion-mnist',
    task: 'classify',
    dir: 'models/classify/fashion-mnist',
    metric: 'test accuracy',
    val: [],
    prune: '--epochs 1',
    torch: 'reference-cnn',
  },
  { id: 'mnist', task: 'classify', dir: 'models/classify/mnist', metric: 'test accuracy', val: [], prune: '--epochs 1', torch: 'reference-cnn' },
  {
    id: 'detect-shapes',
    task: 'detect',
    dir: 'models/detect/shapes',
    metric: 'val mAP50-95',
    val: ['--data', `${VAL}/annotations.json`],
    prune: `--data tmp/shapes/train/annotations.json --val-data ${VAL}/annotations.json --epochs 3`,
  },
  {
    id: 'segment-shapes',
    task: 'segment',
    dir: 'models/segment/shapes',
    metric: 'val mIoU',
    val: ['--images', `${VAL}/images`, '--masks', `${VAL}/masks`],
    prune: `--images tmp/shapes/train/images --masks tmp/shapes/train/masks --val-images ${VAL}/images --val-masks ${VAL}/masks --epochs 3`,
  },
  { id: 'dcgan-mnist', task: 'dcgan', dir: 'models/dcgan/mnist', metric: '—' },
];
const VARIANTS = ['fp32', 'float16', 'uint8', 'onnx', 'p50', 'p80', 'channel'] as const;
type Variant = (typeof VARIANTS)[number];
const PRUNE_ARGS: Partial<Record<Variant, string>> = { p50: '--sparsity 0.5', p80: '--sparsity 0.8', channel: '--method channel --sparsity 0.5' };

const { values: opts } = parseArgs({
  options: {
    work: { type: 'string', default: 'tmp/deploy' },
    out: { type: 'string', default: 'docs/results/deploy.md' },
    models: { type: 'string', default: '' },
    seconds: { type: 'string', default: '1.5' },
  },
});

const folderBytes = (dir: string) => fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
const gzipBytes = (dir: string) => fs.readdirSync(dir).reduce((s, f) => s + zlib.gzipSync(fs.readFileSync(path.join(dir, f)), { level: 9 }).length, 0);

/** The task's own val command on the variant folder → its headline metric. */
function metricOf(m: Shipped, dir: string): number | null {
  if (!m.val) return null;
  const json = path.join(os.tmpdir(), `deploy-${process.pid}-${m.id}.json`);
  const r = spawnSync('npx', ['tsx', `apps/${m.task}/src/val.ts`, '--model', dir, ...m.val, '--json', json], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${m.task}:val on ${dir} failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  const j = JSON.parse(fs.readFileSync(json, 'utf8'));
  fs.rmSync(json);
  return m.task === 'classify' ? j.accuracy : m.task === 'detect' ? j.stats[0] : j.miou;
}

/** Real inputs for the speed and parity runs: test images, validation images, or latent vectors. */
async function inputsFor(m: Shipped, model: tf.LayersModel): Promise<tf.Tensor> {
  if (m.task === 'classify') {
    const ds = await loadClassificationDataset(m.id);
    const n = 64;
    const [h, w, c] = ds.test.shape;
    return tf.tensor4d(unitRange(ds.test.images.subarray(0, n * h * w * c)), [n, h, w, c]);
  }
  if (m.task === 'dcgan') return tf.randomNormal([64, model.inputs[0].shape[1] as number], 0, 1, 'float32', 1);
  const files = listImages(`${VAL}/images`).slice(0, 16);
  const imgs = await Promise.all(files.map((f) => decodeImage(f)));
  return tf.tidy(() => tf.div(tf.stack(imgs.map((d) => tf.tensor3d(Int32Array.from(d.data), [d.height, d.width, d.channels], 'int32'))), 255));
}

function imgPerSec(run: () => tf.Tensor | tf.Tensor[], batch: number, seconds: number): number {
  for (let i = 0; i < 2; i++) tf.dispose(run());
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const y = [run()].flat();
    y[0].dataSync();
    tf.dispose(y);
    n++;
  }
  return (n * batch) / ((performance.now() - t0) / 1000);
}

function torchFigure(name: string, threads: number): number | null {
  for (const python of [process.env.PYTHON ?? 'python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['tools/bench/torch_bench.py', name, '--threads', String(threads), '--steps', '20'], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout.trim().split('\n').pop()!).inferImgPerSec;
  }
  return null;
}

async function main() {
  await initBackend({ log: false });
  registerRegularizationLayers();
  const loaded = loadOneDnnAddon();
  const addon = 'addon' in loaded ? loaded.addon : null;
  const seconds = Number(opts.seconds);
  const cores = os.availableParallelism();
  const wanted = opts.models ? opts.models.split(',') : SHIPPED.map((m) => m.id);
  let rows: Record<string, unknown>[] = [];
  let md = `# Deployment: size, speed and accuracy of every shipped model\n\nWritten by \`npx nx run bench:deploy\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (${cores} cores; tfjs ${tf.version.tfjs} wasm; onnxruntime-node 1.30.0).\n`;
  md +=
    'Speeds are batch inference on real inputs (test images, validation images, latent vectors), model call only; "tfjs oneDNN" calls the saved model layer by layer, "tfjs predictor" the form `loadPredictor` runs (BatchNorm folded, activations fused, one native call per batch where the graph runner takes every layer). "ONNX parity" is the max |Δ| between ONNX Runtime and tfjs on those inputs. Quantized tfjs weights are dequantized at load, so their speed is fp32\'s; the ONNX rows of quantized and pruned variants are converted in memory from the tfjs variant.\n';
  for (const m of SHIPPED.filter((s) => wanted.includes(s.id))) {
    const work = path.join(opts.work, m.id);
    fs.mkdirSync(work, { recursive: true });
    await exportModel(m.dir, path.join(work, 'fp32'));
    await exportModel(m.dir, path.join(work, 'float16'), { quantize: 'float16' });
    await exportModel(m.dir, path.join(work, 'uint8'), { quantize: 'uint8' });
    await exportOnnx(m.dir, path.join(work, 'onnx'));
    const fp32 = await loadModel(m.dir);
    const x = await inputsFor(m, fp32);
    const batch = x.shape[0];
    const torch1 = m.torch ? torchFigure(m.torch, 1) : null;
    const torchAll = m.torch ? torchFigure(m.torch, cores) : null;
    md += `\n## ${m.id} (\`${m.dir}\`, ${m.task}; batch ${batch})\n\n| variant | files MB | gzip MB | ${m.metric} | tfjs wasm img/s | tfjs oneDNN img/s | tfjs predictor img/s | ORT 1 thread | ORT ${cores} threads | ONNX parity |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n`;
    for (const v of VARIANTS) {
      const dir = path.join(work, v);
      if (!m.prune && PRUNE_ARGS[v]) {
        md += `| ${v} | — (${m.task} has no prune command: a generator has no accuracy to keep) ||||||||| |\n`;
        continue;
      }
      if (!fs.existsSync(dir)) {
        md += `| ${v} | not built: \`npx nx run ${m.task}:prune -- --model ${m.dir} ${PRUNE_ARGS[v] ?? ''} ${m.prune ?? ''} --out ${dir}\` ||||||||| |\n`;
        continue;
      }
      const metric = metricOf(m, dir);
      const model = v === 'onnx' ? fp32 : await loadModel(dir);
      const onnxBytes = v === 'onnx' ? fs.readFileSync(path.join(dir, 'model.onnx')) : modelToOnnx(model);
      const ort1 = new OnnxModel(onnxBytes, {}, { threads: 1 });
      const ortAll = new OnnxModel(onnxBytes, {}, { threads: cores });
      const parity = tf.tidy(() => tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, ortAll.predict(x) as tf.Tensor))).dataSync()[0]);
      let wasm: number | null = null;
      let onednn: number | null = null;
      let graph: number | null = null;
      if (v !== 'onnx') {
        unregisterOneDnnKernels();
        wasm = imgPerSec(() => model.predict(x) as tf.Tensor, batch, seconds);
        if (addon) registerOneDnnKernels(addon);
        onednn = addon ? imgPerSec(() => model.predict(x) as tf.Tensor, batch, seconds) : null;
        if (addon) {
          const form = inferenceForm(await loadModel(dir)); // what loadPredictor runs (its own copy: disposing it disposes its layers)
          graph = imgPerSec(() => form.predict(x) as tf.Tensor, batch, seconds);
          form.dispose();
        }
      }
      const o1 = imgPerSec(() => ort1.predict(x) as tf.Tensor, batch, seconds);
      const oAll = imgPerSec(() => ortAll.predict(x) as tf.Tensor, batch, seconds);
      ort1.dispose();
      ortAll.dispose();
      if (model !== fp32) model.dispose();
      const row = {
        model: m.id,
        variant: v,
        bytes: folderBytes(dir),
        gzipBytes: gzipBytes(dir),
        metric,
        wasm,
        onednn,
        graph,
        ort1: o1,
        ortAll: oAll,
        parity,
        params: fp32.countParams(),
      };
      rows.push(row);
      const f = (n: number | null, d = 0) => (n === null ? '—' : n.toFixed(d));
      const metricText = metric === null ? '—' : m.task === 'classify' ? `${(100 * metric).toFixed(2)} %` : metric.toFixed(4);
      md += `| ${v} | ${(row.bytes / 1e6).toFixed(2)} | ${(row.gzipBytes / 1e6).toFixed(2)} | ${metricText} | ${f(wasm)} | ${f(onednn)} | ${f(graph)} | ${f(o1)} | ${f(oAll)} | ${parity.toExponential(1)} |\n`;
      console.log(`${m.id} ${v}: ${JSON.stringify(row)}`);
    }
    if (torch1 !== null)
      md += `\nPyTorch 1.13 (the same architecture, \`tools/bench/torch_bench.py ${m.torch}\`, eager, batch 64): **${torch1.toFixed(0)} img/s** at 1 thread, **${torchAll!.toFixed(0)}** at ${cores}.\n`;
    else if (m.torch) md += `\nPyTorch (\`python3 tools/bench/torch_bench.py ${m.torch}\`) is not installed here (\`apt-get install python3-torch\`).\n`;
    tf.dispose(x);
    fp32.dispose();
  }
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  const jsonOut = opts.out.replace(/\.md$/, '.json');
  if (opts.models && fs.existsSync(opts.out)) {
    // --models: only those sections are measured again; the others (and their rows) stay as they were.
    ({ md, rows } = mergeReport(
      fs.readFileSync(opts.out, 'utf8'),
      md,
      fs.existsSync(jsonOut) ? JSON.parse(fs.readFileSync(jsonOut, 'utf8')) : [],
      rows,
      wanted,
    ));
  }
  writeFileAtomic(opts.out, md);
  writeFileAtomic(jsonOut, JSON.stringify(rows, null, 2));
  console.log(`wrote ${opts.out}`);
}

/**
 * The report with the sections of `wanted` taken from `fresh` and every other section kept from `previous`
 * (in the shipped order), each fresh section dated; the JSON rows likewise.
 */
function mergeReport(previous: string, fresh: string, oldRows: Record<string, unknown>[], newRows: Record<string, unknown>[], wanted: string[]) {
  const sections = (text: string) =>
    new Map(
      text
        .split(/^(?=## )/m)
        .slice(1)
        .map((sec) => [sec.slice(3).split(' ')[0], sec] as const),
    );
  const [before, after] = [sections(previous), sections(fresh)];
  const stamp = `Measured again on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC (\`bench:deploy -- --models ${wanted.join(',')}\`); the other sections are older.\n\n`;
  const head = previous.split(/^(?=## )/m)[0];
  const body = SHIPPED.map((m) => {
    const sec = wanted.includes(m.id) ? after.get(m.id) : before.get(m.id);
    return !sec ? '' : (wanted.includes(m.id) ? sec.replace(/\n\n/, `\n\n${stamp}`) : sec).replace(/\n*$/, '\n\n'); // one blank line between sections
  })
    .join('')
    .replace(/\n+$/, '\n');
  const rows = [...oldRows.filter((r) => !wanted.includes(String(r.model))), ...newRows];
  return { md: head + body, rows };
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
