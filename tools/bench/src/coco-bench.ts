/**
 * COCO evaluation benchmark: evaluate() + accumulate() for bbox on a generated set (default 5,000
 * images × ~7 gts × ~20 detections, 80 categories), seconds and peak memory. `--write-dir DIR` also
 * writes gt.json/dt.json so the same set can be run through pycocotools.
 *
 *   npx nx run bench:coco [-- --images 5000 --json]
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COCO, COCOeval, type CocoDataset, type CocoResult } from 'coco-ts-api';

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

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    strict: true,
    options: {
      images: { type: 'string', default: '5000' },
      seed: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
      'write-dir': { type: 'string' },
    },
  });
  const images = Number(values.images);
  const { gt, dt } = generate(images, Number(values.seed));
  if (values['write-dir']) {
    fs.mkdirSync(values['write-dir'], { recursive: true });
    fs.writeFileSync(path.join(values['write-dir'], 'gt.json'), JSON.stringify(gt));
    fs.writeFileSync(path.join(values['write-dir'], 'dt.json'), JSON.stringify(dt));
  }
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const cocoGt = new COCO(gt);
  const cocoDt = cocoGt.loadRes(dt);
  const E = new COCOeval(cocoGt, cocoDt, 'bbox');
  let t0 = performance.now();
  E.evaluate();
  const evaluate = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  t0 = performance.now();
  E.accumulate();
  const accumulate = (performance.now() - t0) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(timer);
  const stats = E.summarize(values.json ? () => {} : console.log);
  const row = {
    images,
    gts: gt.annotations!.length,
    detections: dt.length,
    categories: 80,
    evaluateSeconds: evaluate,
    accumulateSeconds: accumulate,
    totalSeconds: evaluate + accumulate,
    peakRssMb: peak / 2 ** 20,
    ap: stats[0],
  };
  if (values.json) console.log(JSON.stringify(row));
  else
    console.log(
      `\n${images} images, ${row.gts} gts, ${row.detections} detections: evaluate ${evaluate.toFixed(2)} s + accumulate ${accumulate.toFixed(2)} s = ${row.totalSeconds.toFixed(2)} s, peak RSS ${row.peakRssMb.toFixed(0)} MB`,
    );
}

main();
