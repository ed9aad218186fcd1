/**
 * COCO evaluation benchmark: evaluate() + accumulate() on a generated set (default 5,000 images × ~7 gts ×
 * ~20 detections, 80 categories; `--iou segm`: the gts as octagon polygons, the detections as RLEs; `--iou keypoints`:
 * one category, 17 keypoints per person on a skeleton in each box),
 * seconds and peak memory, with `--workers N` threads (loading — parsing the written files, COCO(), loadRes — is
 * timed apart, as pycocotools' is; a full garbage collection on both sides separates it from evaluate()). `--write-dir DIR` writes gt.json/dt.json; `--python <python with
 * pycocotools>` then times pycocotools' evaluate() + accumulate() on the same files (tools/bench/pycocotools_bench.py).
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
    },
  });
  const images = Number(values.images);
  const workers = Number(values.workers);
  const iouType = values.iou as 'bbox' | 'segm' | 'keypoints';
  const split = values.split as 'images' | 'categories';
  if (!['images', 'categories'].includes(split)) throw new Error(`--split must be images or categories, got '${values.split}'`);
  if (!['bbox', 'segm', 'keypoints'].includes(iouType)) throw new Error(`--iou must be bbox, segm or keypoints, got '${values.iou}'`);
  if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`--workers takes a whole number ≥ 1, got '${values.workers}'`);
  const dir = values['write-dir'] ?? (workers > 1 || values.python ? fs.mkdtempSync(path.join(os.tmpdir(), 'cocobench-')) : undefined);
  let { gt, dt } = made(iouType, images, Number(values.seed));
  const counts = { gts: gt.annotations!.length, detections: dt.length, categories: gt.categories!.length };
  if (dir) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'gt.json'), JSON.stringify(gt));
    fs.writeFileSync(path.join(dir, 'dt.json'), JSON.stringify(dt));
  }
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  // Loading, timed apart as pycocotools' COCO(file) + loadRes(file) is: from the files when they were written.
  const tl = performance.now();
  if (dir) {
    gt = JSON.parse(fs.readFileSync(path.join(dir, 'gt.json'), 'utf8'));
    dt = JSON.parse(fs.readFileSync(path.join(dir, 'dt.json'), 'utf8'));
  }
  const cocoGt = new COCO(gt);
  const cocoDt = cocoGt.loadRes(dt);
  const load = (performance.now() - tl) / 1000;
  let E = new COCOeval(cocoGt, cocoDt, iouType);
  const pool =
    workers > 1
      ? await startEvaluationWorkers({ gt: path.join(dir!, 'gt.json'), dt: path.join(dir!, 'dt.json'), iouType, params: {}, split }, workers, {
          gt: cocoGt,
          dt: cocoDt,
        })
      : null;
  // A full collection between loading and evaluate(), on both sides (pycocotools_bench.py runs gc.collect()):
  // otherwise V8's concurrent marking of the loader's garbage runs during evaluate() and slows it by up to 2×.
  // V8 sweeps the collected pages on helper threads afterwards; half a second lets that finish too (measured:
  // without the pause, evaluate()'s first allocations sweep ~1 GB of loader pages themselves, +80 ms on segm).
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 500));
  let t0 = performance.now();
  if (pool) E = await pool.evaluate();
  else E.evaluate();
  const evaluate = (performance.now() - t0) / 1000;
  await pool?.close();
  peak = Math.max(peak, process.memoryUsage().rss);
  t0 = performance.now();
  E.accumulate();
  const accumulate = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(timer);
  // --check-single: the same set in one thread (untimed); the workers' precision / recall / scores must equal it bit for bit.
  let bitEqualToSingle: boolean | undefined;
  if (values['check-single']) {
    const single = new COCOeval(cocoGt, cocoDt, iouType);
    single.evaluate();
    const a = single.accumulate();
    const b = E.accumulate();
    const same = (x: Float64Array, y: Float64Array) => x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
    bitEqualToSingle = same(a.precision, b.precision) && same(a.recall, b.recall) && same(a.scores, b.scores);
  }
  const stats = E.summarize(values.json ? () => {} : console.log);
  let pycocotools: { version: string; evaluateSeconds: number; accumulateSeconds: number; stats: number[] } | undefined;
  if (values.python) {
    const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../pycocotools_bench.py');
    const r = spawnSync(values.python, [script, path.join(dir!, 'gt.json'), path.join(dir!, 'dt.json'), iouType], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`pycocotools run failed: ${r.stderr.trim().split('\n').pop()}`);
    pycocotools = JSON.parse(r.stdout.trim().split('\n').pop()!);
  }
  const row = {
    iouType,
    workers,
    images,
    ...counts,
    loadSeconds: load,
    evaluateSeconds: evaluate,
    accumulateSeconds: accumulate,
    totalSeconds: evaluate + accumulate,
    peakRssMb: peak / 2 ** 20,
    ap: stats[0],
    split: workers > 1 ? split : undefined,
    bitEqualToSingle,
    ...(pycocotools
      ? {
          pycocotools: { ...pycocotools, totalSeconds: pycocotools.evaluateSeconds + pycocotools.accumulateSeconds },
          speedup: (pycocotools.evaluateSeconds + pycocotools.accumulateSeconds) / (evaluate + accumulate),
          sameStats: pycocotools.stats.every((v, i) => Math.abs(v - stats[i]) <= 1e-12),
          bitEqualStats: pycocotools.stats.length === stats.length && pycocotools.stats.every((v, i) => Object.is(v, stats[i])),
        }
      : {}),
  };
  if (values.json) console.log(JSON.stringify(row));
  else {
    console.log(
      `\n${iouType}, ${images} images, ${row.gts} gts, ${row.detections} detections, ${workers} worker(s): load ${load.toFixed(2)} s (untimed below), evaluate ${evaluate.toFixed(2)} s + accumulate ${accumulate.toFixed(2)} s = ${row.totalSeconds.toFixed(2)} s, peak RSS ${row.peakRssMb.toFixed(0)} MB`,
    );
    if (pycocotools)
      console.log(
        `pycocotools ${pycocotools.version}: evaluate ${pycocotools.evaluateSeconds.toFixed(2)} s + accumulate ${pycocotools.accumulateSeconds.toFixed(2)} s → ${(row as { speedup?: number }).speedup!.toFixed(1)}× faster here; stats ${(row as { sameStats?: boolean }).sameStats ? 'equal' : 'DIFFER'}`,
      );
  }
}

main().catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
});
