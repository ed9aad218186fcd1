/**
 * COCO evaluation benchmark: evaluate() + accumulate() on a generated set (default 5,000 images × ~7 gts ×
 * ~20 detections, 80 categories; `--iou segm`: the gts as octagon polygons, the detections as RLEs; `--iou keypoints`:
 * one category, 17 keypoints per person on a skeleton in each box),
 * seconds and peak memory, with `--workers N` threads. The set is written as gt.json / dt.json (to `--write-dir
 * DIR`, or a temporary folder) and measured in a fresh process, as `--python <python with pycocotools>` measures
 * pycocotools on the same files (tools/bench/pycocotools_bench.py): loading (parsing, COCO(), loadRes) is timed
 * apart, a full garbage collection on both sides separates it from evaluate(), peak RSS is the process's.
 *
 *   npx nx run bench:coco [-- --images 5000 --workers 2 --split categories|images --check-single --iou bbox|segm|keypoints --python /path/to/python3 --json]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COCO, COCOeval, type CocoDataset, type CocoResult, frPoly } from 'coco-ts-api';
import { startEvaluationWorkers } from 'coco-ts-api/node';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded synthetic detection set: most detections jitter a gt box (same class), the rest are clutter. */
export function generate(images: number, seed = 0): { gt: CocoDataset; dt: CocoResult[] } {
  const r = rng(seed);
  const cats = Array.from({ length: 80 }, (_, i) => ({ id: i + 1, name: `class${i + 1}` }));
  const imgs = [];
  const anns: NonNullable<CocoDataset['annotations']> = [];
  const dets: CocoResult[] = [];
  const round = (v: number) => Math.round(v * 100) / 100;
  for (let i = 1; i <= images; i++) {
    const [W, H] = [640, 480];
    imgs.push({ id: i, width: W, height: H, file_name: `${i}.jpg` });
    const nGt = 3 + Math.floor(r() * 9); // 3..11, mean 7
    const boxes: { cat: number; box: [number, number, number, number] }[] = [];
    for (let g = 0; g < nGt; g++) {
      const w = 8 + r() * 300;
      const h = 8 + r() * 250;
      const box: [number, number, number, number] = [round(r() * (W - w)), round(r() * (H - h)), round(w), round(h)];
      const cat = 1 + Math.floor(r() * 80);
      boxes.push({ cat, box });
      anns.push({ id: anns.length + 1, image_id: i, category_id: cat, bbox: box, area: round(w * h * (0.6 + 0.4 * r())), iscrowd: r() < 0.01 ? 1 : 0 });
    }
    const nDt = 10 + Math.floor(r() * 21); // 10..30, mean 20
    for (let d = 0; d < nDt; d++) {
      if (r() < 0.6) {
        const { cat, box } = boxes[Math.floor(r() * boxes.length)];
        const j = () => 1 + (r() - 0.5) * 0.3;
        dets.push({
          image_id: i,
          category_id: cat,
          bbox: [round(box[0] * j()), round(box[1] * j()), round(box[2] * j()), round(box[3] * j())],
          score: round(r()),
        });
      } else {
        const w = 8 + r() * 300;
        const h = 8 + r() * 250;
        dets.push({
          image_id: i,
          category_id: 1 + Math.floor(r() * 80),
          bbox: [round(r() * (W - w)), round(r() * (H - h)), round(w), round(h)],
          score: round(r() * 0.7),
        });
      }
    }
  }
  return { gt: { images: imgs, annotations: anns, categories: cats }, dt: dets };
}

/** An octagon inscribed in a box, as a COCO polygon. */
function octagon([x, y, w, h]: number[]): number[] {
  const t = 0.29;
  return [
    x + t * w,
    y,
    x + (1 - t) * w,
    y,
    x + w,
    y + t * h,
    x + w,
    y + (1 - t) * h,
    x + (1 - t) * w,
    y + h,
    x + t * w,
    y + h,
    x,
    y + (1 - t) * h,
    x,
    y + t * h,
  ].map((v) => Math.round(v * 100) / 100);
}

/** The set for segm: gt polygons (octagons of the boxes), detections as compressed RLEs of theirs. */
export function toSegm({ gt, dt }: { gt: CocoDataset; dt: CocoResult[] }): { gt: CocoDataset; dt: CocoResult[] } {
  const size = new Map(gt.images!.map((im) => [im.id, [im.height!, im.width!]]));
  return {
    gt: { ...gt, annotations: gt.annotations!.map((a) => ({ ...a, segmentation: [octagon(a.bbox as number[])] })) },
    dt: dt.map(({ bbox, ...d }) => {
      const [h, w] = size.get(d.image_id)!;
      return { ...d, segmentation: frPoly([octagon(bbox as number[])], h, w)[0] };
    }),
  };
}

/** Where each of COCO's 17 person keypoints sits in its box, as fractions [x, y] (a standing person). */
const SKELETON: [number, number][] = [
  [0.5, 0.08],
  [0.45, 0.06],
  [0.55, 0.06],
  [0.4, 0.08],
  [0.6, 0.08],
  [0.3, 0.25],
  [0.7, 0.25],
  [0.2, 0.42],
  [0.8, 0.42],
  [0.15, 0.58],
  [0.85, 0.58],
  [0.38, 0.6],
  [0.62, 0.6],
  [0.37, 0.8],
  [0.63, 0.8],
  [0.36, 0.98],
  [0.64, 0.98],
];

/**
 * The set for keypoints: one category (person, 17 keypoints); each gt's points on a skeleton in its box with a
 * little noise, 20 % of them not labelled (v 0; a person with none has num_keypoints 0 and is ignored); each
 * detection's points on the same skeleton in its own (jittered or spurious) box, so OKS follows the box error.
 */
export function toKeypoints({ gt, dt }: { gt: CocoDataset; dt: CocoResult[] }, seed: number): { gt: CocoDataset; dt: CocoResult[] } {
  const r = rng(seed * 7919 + 17);
  const round = (v: number) => Math.round(v * 100) / 100;
  const points = ([x, y, w, h]: number[], labelled: boolean) =>
    SKELETON.flatMap(([fx, fy]) => {
      const v = !labelled || r() < 0.2 ? 0 : r() < 0.3 ? 1 : 2;
      return labelled && v === 0 ? [0, 0, 0] : [round(x + fx * w + (r() - 0.5) * 0.04 * w), round(y + fy * h + (r() - 0.5) * 0.04 * h), labelled ? v : 1];
    });
  const categories = [{ id: 1, name: 'person', supercategory: 'person', keypoints: SKELETON.map((_, i) => `k${i}`), skeleton: [] }];
  return {
    gt: {
      ...gt,
      categories,
      annotations: gt.annotations!.map((a) => {
        const keypoints = points(a.bbox as number[], true);
        const num_keypoints = keypoints.filter((_, i) => i % 3 === 2).filter((v) => v > 0).length;
        return { ...a, category_id: 1, keypoints, num_keypoints };
      }),
    },
    dt: dt.map(({ bbox, ...d }) => ({ ...d, category_id: 1, keypoints: points(bbox as number[], false) })),
  };
}

/** The generated set for an iouType. */
function made(iouType: string, images: number, seed: number): { gt: CocoDataset; dt: CocoResult[] } {
  const boxes = generate(images, seed);
  return iouType === 'segm' ? toSegm(boxes) : iouType === 'keypoints' ? toKeypoints(boxes, seed) : boxes;
}

/** A full garbage collection (V8's gc(), reached without a command-line flag). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

/** What one measured run (a fresh process, `--measure DIR`) reports. */
interface Measured {
  loadSeconds: number;
  evaluateSeconds: number;
  accumulateSeconds: number;
  peakRssMb: number;
  stats: number[];
  /** pycocotools' printed summary. */
  lines: string[];
  bitEqualToSingle?: boolean;
}

/**
 * Loads DIR's gt.json / dt.json and times evaluate() + accumulate(), in a process of its own as pycocotools'
 * side runs in one: its peak RSS (the kernel's high-water mark, as Python's ru_maxrss) is loading + evaluation,
 * not the generator's.
 */
async function measure(
  dir: string,
  iouType: 'bbox' | 'segm' | 'keypoints',
  workers: number,
  split: 'images' | 'categories',
  checkSingle: boolean,
): Promise<Measured> {
  const files = { gt: path.join(dir, 'gt.json'), dt: path.join(dir, 'dt.json') };
  // Loading, timed apart as pycocotools' COCO(file) + loadRes(file) is.
  const tl = performance.now();
  const cocoGt = new COCO(JSON.parse(fs.readFileSync(files.gt, 'utf8')) as CocoDataset);
  const cocoDt = cocoGt.loadRes(JSON.parse(fs.readFileSync(files.dt, 'utf8')) as CocoResult[]);
  const loadSeconds = (performance.now() - tl) / 1000;
  let E = new COCOeval(cocoGt, cocoDt, iouType);
  const pool = workers > 1 ? await startEvaluationWorkers({ ...files, iouType, params: {}, split }, workers, { gt: cocoGt, dt: cocoDt }) : null;
  // A full collection between loading and evaluate(), on both sides (pycocotools_bench.py runs gc.collect()):
  // otherwise V8's concurrent marking of the loader's garbage runs during evaluate() and slows it by up to 2×.
  // V8 sweeps the collected pages on helper threads afterwards; half a second lets that finish too (measured:
  // without the pause, evaluate()'s first allocations sweep the loader's pages themselves, +80 ms on segm).
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 500));
  let t0 = performance.now();
  if (pool) E = await pool.evaluate();
  else E.evaluate();
  const evaluateSeconds = (performance.now() - t0) / 1000;
  await pool?.close();
  t0 = performance.now();
  E.accumulate();
  const accumulateSeconds = (performance.now() - t0) / 1000;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  // --check-single: the same set in one thread (untimed); the workers' precision / recall / scores must equal it bit for bit.
  let bitEqualToSingle: boolean | undefined;
  if (checkSingle) {
    const single = new COCOeval(cocoGt, cocoDt, iouType);
    single.evaluate();
    const a = single.accumulate();
    const b = E.accumulate();
    const same = (x: Float64Array, y: Float64Array) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
    bitEqualToSingle = same(a.precision, b.precision) && same(a.recall, b.recall) && same(a.scores, b.scores);
  }
  const lines: string[] = [];
  const stats = E.summarize((l) => lines.push(l));
  return { loadSeconds, evaluateSeconds, accumulateSeconds, peakRssMb, stats, lines, bitEqualToSingle };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    strict: true,
    options: {
      images: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
      'write-dir': { type: 'string' },
      workers: { type: 'string', default: '1' },
      iou: { type: 'string', default: 'bbox' },
      python: { type: 'string' },
      split: { type: 'string', default: 'categories' },
      'check-single': { type: 'boolean', default: false },
      measure: { type: 'string' },
    },
  });
  const images = Number(values.images);
  const workers = Number(values.workers);
  const iouType = values.iou as 'bbox' | 'segm' | 'keypoints';
  const split = values.split as 'images' | 'categories';
  if (!['images', 'categories'].includes(split)) throw new Error(`--split must be images or categories, got '${values.split}'`);
  if (!['bbox', 'segm', 'keypoints'].includes(iouType)) throw new Error(`--iou must be bbox, segm or keypoints, got '${values.iou}'`);
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`--workers takes a whole number ≥ 1, got '${values.workers}'`);
  if (values.measure) {
    console.log(JSON.stringify(await measure(values.measure, iouType, workers, split, values['check-single']!)));
    return;
  }
  const dir = values['write-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cocobench-'));
  const { gt, dt } = made(iouType, images, Number(values.seed));
  const counts = { gts: gt.annotations!.length, detections: dt.length, categories: gt.categories!.length };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'gt.json'), JSON.stringify(gt));
  fs.writeFileSync(path.join(dir, 'dt.json'), JSON.stringify(dt));
  // The measured run: this script again, in a fresh process, on the files.
  const self = fileURLToPath(import.meta.url);
  const args = ['--measure', dir, '--iou', iouType, '--workers', String(workers), '--split', split, ...(values['check-single'] ? ['--check-single'] : [])];
  const child = spawnSync(process.execPath, [...process.execArgv, self, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`measured run failed: ${child.stderr.trim().split('\n').pop()}`);
  const m = JSON.parse(child.stdout.trim().split('\n').pop()!) as Measured;
  const { stats } = m;
  let pycocotools: { version: string; loadSeconds: number; evaluateSeconds: number; accumulateSeconds: number; peakRssMb: number; stats: number[] } | undefined;
  if (values.python) {
    const script = path.resolve(path.dirname(self), '../pycocotools_bench.py');
    const r = spawnSync(values.python, [script, path.join(dir, 'gt.json'), path.join(dir, 'dt.json'), iouType], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pycocotools run failed: ${r.stderr.trim().split('\n').pop()}`);
    pycocotools = JSON.parse(r.stdout.trim().split('\n').pop()!);
  }
  const total = m.evaluateSeconds + m.accumulateSeconds;
  const row = {
    iouType,
    workers,
    images,
    ...counts,
    loadSeconds: m.loadSeconds,
    evaluateSeconds: m.evaluateSeconds,
    accumulateSeconds: m.accumulateSeconds,
    totalSeconds: total,
    peakRssMb: m.peakRssMb,
    ap: stats[0],
    split: workers > 1 ? split : undefined,
    bitEqualToSingle: m.bitEqualToSingle,
    ...(pycocotools
      ? {
          pycocotools: { ...pycocotools, totalSeconds: pycocotools.evaluateSeconds + pycocotools.accumulateSeconds },
          speedup: (pycocotools.evaluateSeconds + pycocotools.accumulateSeconds) / total,
          sameStats: pycocotools.stats.every((v, i) => Math.abs(v - stats[i]) <= 1e-12),
          bitEqualStats: pycocotools.stats.length === stats.length && pycocotools.stats.every((v, i) => Object.is(v, stats[i])),
        }
      : {}),
  };
  if (values.json) console.log(JSON.stringify(row));
  else {
    console.log(m.lines.join('\n'));
    console.log(
      `\n${iouType}, ${images} images, ${row.gts} gts, ${row.detections} detections, ${workers} worker(s): load ${m.loadSeconds.toFixed(2)} s (untimed below), evaluate ${m.evaluateSeconds.toFixed(2)} s + accumulate ${m.accumulateSeconds.toFixed(2)} s = ${total.toFixed(2)} s, peak RSS ${m.peakRssMb.toFixed(0)} MB`,
    );
    if (pycocotools)
      console.log(
        `pycocotools ${pycocotools.version}: evaluate ${pycocotools.evaluateSeconds.toFixed(2)} s + accumulate ${pycocotools.accumulateSeconds.toFixed(2)} s, peak RSS ${pycocotools.peakRssMb.toFixed(0)} MB → ${(row as { speedup?: number }).speedup!.toFixed(1)}× faster here; stats ${(row as { sameStats?: boolean }).sameStats ? 'equal' : 'DIFFER'}`,
      );
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
});
