import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COCO, COCOeval, type CocoDataset } from 'coco-ts-api';
import { decodeImage } from '@cv/data';
import { initBackend, loadTaskPredictor, unletterboxBoxes } from '@cv/engine';
import { evaluateDetectorOnFiles } from './files';
import { parseNames } from './ultralytics';
import type { DetectionPredictor } from './predictor';
import './predict';

// ONNX detectors in Ultralytics' layouts with planted outputs: tools/bench/ultralytics_onnx_fixtures.py.
const DIR = path.resolve(__dirname, '../fixtures/ultralytics');
const gt = JSON.parse(fs.readFileSync(path.join(DIR, 'annotations.json'), 'utf8')) as CocoDataset;
const files = gt.images!.map((i) => path.join(DIR, 'images', i.file_name!));
// What the planted modules output, in model-input pixels (x1, y1, x2, y2, score, class), per image.
const PLANTED = [
  [
    [40, 60, 120, 140, 0.92, 0],
    [200, 100, 280, 200, 0.81, 1],
    [150, 220, 190, 250, 0.66, 0],
  ],
  [
    [100, 30, 180, 110, 0.88, 1],
    [120, 180, 220, 300, 0.74, 0],
  ],
];

function expectPlanted(predictor: DetectionPredictor, images: Awaited<ReturnType<typeof decodeImage>>[]) {
  const out = predictor.predict(images, { conf: 0.25, iou: 0.7, maxDet: 100 });
  out.forEach((dets, i) => {
    const { width, height } = images[i];
    const scale = Math.min(320 / width, 320 / height);
    const t = { scale, padX: Math.floor((320 - Math.round(width * scale)) / 2), padY: Math.floor((320 - Math.round(height * scale)) / 2), width, height };
    const want = PLANTED[i].map((p) => ({ box: Array.from(unletterboxBoxes(p.slice(0, 4), t)), score: p[4], classIndex: p[5] }));
    expect(dets.map((d) => d.classIndex)).toEqual(want.map((w) => w.classIndex)); // the shifted duplicates are gone
    dets.forEach((d, k) => {
      expect(d.score).toBeCloseTo(want[k].score, 5);
      d.box.forEach((v, j) => expect(v).toBeCloseTo(want[k].box[j], 3));
      expect(d.label).toBe(['ring', 'blob'][d.classIndex]);
    });
  });
}

describe('Ultralytics ONNX detectors (--runtime onnx)', () => {
  let images: Awaited<ReturnType<typeof decodeImage>>[];
  beforeAll(async () => {
    await initBackend({ log: false });
    images = await Promise.all(files.map(decodeImage));
  });

  it('reads task, names and imgsz from the metadata_props', () => {
    expect(parseNames("{0: 'person', 1: \"it's\", 2: 'traffic light'}")).toEqual(['person', "it's", 'traffic light']);
    expect(parseNames('["a", "b"]')).toEqual(['a', 'b']);
    expect(parseNames(undefined)).toBeNull();
  });

  for (const [kind, layout] of [
    ['yolov8', 'ultralytics'],
    ['e2e', 'ultralytics-e2e'],
  ] as const) {
    it(`${kind} layout: letterboxed as Ultralytics does, decoded, NMS, the planted boxes back in image pixels`, async () => {
      const predictor = await loadTaskPredictor<DetectionPredictor>(path.join(DIR, kind), 'detect', 'detect:predict', { runtime: 'onnx' });
      expect(predictor.metadata.layout).toBe(layout);
      expect(predictor.metadata.classNames).toEqual(['ring', 'blob']);
      expect(predictor.metadata.imgsz).toEqual([320, 320]);
      expectPlanted(predictor, images);
      // detect:val's evaluation equals coco-ts-api (pycocotools' numbers) on the same results, and the planted boxes score 1.
      const byName = Object.fromEntries(gt.categories!.map((c) => [c.name, c.id]));
      predictor.metadata.categoryIds = predictor.metadata.classNames.map((n) => byName[n]);
      const r = await evaluateDetectorOnFiles(predictor, gt, files, { conf: 0.001, iou: 0.7, maxDet: 100 });
      const coco = new COCO(gt);
      const E = new COCOeval(coco, coco.loadRes(r.results!), 'bbox');
      E.evaluate();
      E.accumulate();
      E.summarize();
      expect(r.stats).toEqual(E.stats);
      expect(r.stats[0]).toBeCloseTo(1, 6);
      predictor.dispose();
    });
  }

  it('without names: class0.. until --classes names them; a wrong count is refused', async () => {
    const predictor = await loadTaskPredictor<DetectionPredictor>(path.join(DIR, 'nonames'), 'detect', 'detect:predict', { runtime: 'onnx' });
    expect(predictor.metadata.classNames).toEqual(['class0', 'class1']);
    expect(() => predictor.setClassNames(['a', 'b', 'c'])).toThrow(/--classes gives 3 names but the model has 2 classes/);
    predictor.setClassNames(['ring', 'blob']);
    expectPlanted(predictor, images);
    predictor.dispose();
  });
});
