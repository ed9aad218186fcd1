/**
 * The PyTorch side of `bench:tta --torch`: the anchor trained on the same files for the same budget
 * (tools/bench/torch_tta_train.py, its per-epoch validation predictions scored here with the suite's evaluation),
 * and our trained model rebuilt in PyTorch for the same predict path (tools/bench/torch_tta.py). Debian's
 * python3-torch is a yardstick, never a dependency; a PyTorch on the reference BLAS is refused unless asked for.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { listImages } from '@cv/data';
import { SegmentationConfusion, segmentationMetrics } from '@cv/metrics';
import { evaluateDetections } from '@cv/tasks-detect';
import { readClassMask } from '@cv/tasks-segment';
import { ConfigError } from '@cv/engine';

/** One validation of a run: epoch, training seconds, metric. */
export interface Row {
  epoch: number;
  time: number;
  score: number;
}

/** What the PyTorch side needs of bench:tta's settings. */
export interface TorchOptions {
  task: 'detect' | 'segment';
  /** The training budget in minutes. */
  minutes: number;
  work: string;
  batch: number;
  hard: boolean;
  allowReferenceBlas: boolean;
}

const root = process.cwd();

export interface TorchAnswer {
  inferImgPerS: number;
  blas: string;
  maxAbsDiff: number | null;
  outputScale: number;
}

/** The first python3 that imports torch, torchvision and PIL. */
export function torchPython(): string {
  const python = [process.env.CV_TORCH_PYTHON, 'python3', '/usr/bin/python3'].find(
    (p) => p && spawnSync(p, ['-c', 'import torch, torchvision, PIL'], { stdio: 'ignore' }).status === 0,
  );
  if (!python) throw new ConfigError('--torch needs a python3 with torch (Debian: apt-get install -y python3-torch python3-torchvision libopenblas0-pthread)');
  return python;
}

function refuseReferenceBlas(cfg: TorchOptions, blas: string): void {
  if (!/openblas/i.test(blas) && !cfg.allowReferenceBlas) {
    throw new ConfigError(
      `PyTorch loaded ${blas}, not OpenBLAS: its matmuls run ~12× slower than they can; apt-get install -y libopenblas0-pthread (or pass --allow-reference-blas)`,
    );
  }
}

interface TorchTrainAnswer {
  params: number;
  gflops: number;
  epochs: number;
  steps: number;
  inferImgPerS: number;
  blas: string;
  threads: number;
  torch: string;
}

/**
 * Trains the PyTorch anchor on the same sets for the same budget; its per-epoch validation predictions are
 * scored here with the suite's evaluation. The rows (epoch, seconds, score) and what the script reported.
 */
export async function torchTrain(cfg: TorchOptions, train: string, val: string): Promise<{ run: string; rows: Row[]; answer: TorchTrainAnswer }> {
  const python = torchPython();
  const out = path.join(cfg.work, 'runs', `${cfg.task}-torch-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const minutes = cfg.minutes;
  const args = ['tools/bench/torch_tta_train.py', '--task', cfg.task, '--train', train, '--val', val, '--time', String(minutes), '--out', out];
  // The hard set's images are 160–320 px: the anchor letterboxes them to 256, as the anchor did.
  if (cfg.hard) args.push('--imgsz', '256');
  process.stderr.write(`${python} ${args.join(' ')}\n`);
  const stdout = await new Promise<string>((resolve, reject) => {
    const p = spawn(python, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d: Buffer) => (text += d.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`torch_tta_train.py exited with code ${code}`))));
  });
  const answer = JSON.parse(stdout.trim().split('\n').pop()!) as TorchTrainAnswer;
  refuseReferenceBlas(cfg, answer.blas);
  const [, ...lines] = fs.readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  const epochs = lines.map((l) => l.split(',').map(Number)).map(([epoch, time]) => ({ epoch, time }));
  let score: (epoch: number) => number;
  if (cfg.task === 'detect') {
    const gt = JSON.parse(fs.readFileSync(path.join(val, 'annotations.json'), 'utf8'));
    score = (e) => evaluateDetections(gt, JSON.parse(fs.readFileSync(path.join(out, `epoch-${e}.json`), 'utf8'))).stats[0];
  } else {
    const masks = listImages(path.join(val, 'masks'))
      .sort()
      .map((f) => readClassMask(f));
    const classes = 1 + (JSON.parse(fs.readFileSync(path.join(val, 'annotations.json'), 'utf8')) as { categories: unknown[] }).categories.length;
    score = (e) => {
      const pred = fs.readFileSync(path.join(out, `epoch-${e}.u8`));
      const cm = new SegmentationConfusion(classes, 255);
      let offset = 0;
      for (const m of masks) {
        cm.add(m.data, pred.subarray(offset, offset + m.data.length));
        offset += m.data.length;
      }
      if (offset !== pred.length) throw new Error(`${out}/epoch-${e}.u8 holds ${pred.length} pixels, the validation masks ${offset}`);
      return segmentationMetrics(cm).miou;
    };
  }
  return { run: out, rows: epochs.map((r) => ({ ...r, score: score(r.epoch) })), answer };
}

/** Our trained model rebuilt in PyTorch: the BLAS it loaded, and its inference img/s for the same data. */
export function torchInfer(cfg: TorchOptions, val: string, modelDir: string, check: string): TorchAnswer {
  const python = torchPython();
  const r = spawnSync(
    python,
    ['tools/bench/torch_tta.py', '--task', cfg.task, '--model', modelDir, '--images', path.join(val, 'images'), '--batch', String(cfg.batch), '--check', check],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`torch_tta.py failed: ${r.stderr.trim().split('\n').pop()}`);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as TorchAnswer;
  if (!(out.maxAbsDiff !== null && out.maxAbsDiff <= 1e-3 * Math.max(1, out.outputScale))) {
    throw new Error(
      `the PyTorch rebuild of ${modelDir} does not reproduce its outputs (max difference ${out.maxAbsDiff}); the comparison would be meaningless`,
    );
  }
  refuseReferenceBlas(cfg, out.blas);
  return out;
}
