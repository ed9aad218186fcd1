/**
 * Detection pieces on hand-made cases: CIoU, DFL, the task-aligned assigner, COCO data letterboxing and its
 * inverse, the training step (no leaks), and the predictor's boxes in original pixels (decode + NMS: boxes.spec.ts).
 */
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { collate, SampleLoader } from '@cv/data';
import { fuseForInference, initBackend, stepContext } from '@cv/engine';
import { assign } from './assigner';
import { ciou, distancesToBoxes, dflExpectation, makeAnchors } from './boxes';
import { loadCocoDetection } from './data';
import { bceWithLogits, detectionLoss, dfl } from './loss';
import { createDetector, createDetectorWithStages, REG_MAX, STRIDES } from './models';
import { DetectionPredictor } from './predictor';
import { DetectionTask } from './step';

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('box losses', () => {
  it('the detection loss on the gathered positives equals the dense form (values and gradients)', () => {
    const anchors = makeAnchors([64, 64], STRIDES);
    const a = anchors.count;
    const k = 2;
    const raw = tf.randomNormal([2, a, 4 * REG_MAX + k], 0, 1, 'float32', 3) as tf.Tensor3D;
    const batch = collate([
      { image: new Uint8Array(64 * 64 * 3), shape: [64, 64, 3], boxes: Float32Array.from([4, 6, 30, 40, 20, 20, 60, 50]), boxClasses: Int32Array.from([0, 1]) },
      { image: new Uint8Array(64 * 64 * 3), shape: [64, 64, 3], boxes: Float32Array.from([10, 10, 22, 26]), boxClasses: Int32Array.from([1]) },
    ]);
    // The dense reference: every anchor's CIoU and DFL, weighted by (sum of target scores) · foreground.
    const dense = (r: tf.Tensor3D) => {
      const reg = tf.slice(r, [0, 0, 0], [-1, -1, 4 * REG_MAX]) as tf.Tensor3D;
      const cls = tf.slice(r, [0, 0, 4 * REG_MAX], [-1, -1, k]);
      const boxes = distancesToBoxes(dflExpectation(reg, REG_MAX), anchors);
      const scores = tf.sigmoid(cls).dataSync();
      const bx = boxes.dataSync();
      const tB = new Float32Array(2 * a * 4);
      const tS = new Float32Array(2 * a * k);
      const fg = new Float32Array(2 * a);
      for (let i = 0; i < 2; i++) {
        const n = batch.boxCounts![i];
        const m = batch.maxBoxes!;
        const res = assign(
          scores.subarray(i * a * k, (i + 1) * a * k),
          bx.subarray(i * a * 4, (i + 1) * a * 4),
          anchors,
          k,
          batch.boxes!.subarray(i * m * 4, i * m * 4 + n * 4),
          batch.boxClasses!.subarray(i * m, i * m + n),
        );
        tB.set(res.boxes, i * a * 4);
        tS.set(res.scores, i * a * k);
        res.foreground.forEach((f, j) => (fg[i * a + j] = f));
      }
      const tss = Math.max(
        1,
        tS.reduce((s, v) => s + v, 0),
      );
      const ts = tf.tensor3d(tS, [2, a, k]);
      const clsLoss = tf.div(tf.sum(bceWithLogits(cls, ts)), tss);
      const w = tf.mul(tf.sum(ts, -1), tf.tensor2d(fg, [2, a]));
      const tb = tf.tensor3d(tB, [2, a, 4]);
      const boxLoss = tf.div(tf.sum(tf.mul(tf.sub(1, ciou(boxes, tb)), w)), tss);
      const pts = tf.tensor2d(anchors.points, [a, 2]);
      const st = tf.tensor2d(anchors.strides, [a, 1]);
      const t = tf.div(tf.concat([tf.sub(pts, tf.slice(tb, [0, 0, 0], [-1, -1, 2])), tf.sub(tf.slice(tb, [0, 0, 2], [-1, -1, 2]), pts)], -1), st);
      const dflLoss = tf.div(tf.sum(tf.mul(tf.mean(dfl(tf.reshape(reg, [2, a, 4, REG_MAX]), t, REG_MAX), -1), w)), tss);
      return tf.addN([tf.mul(boxLoss, 7.5), tf.mul(clsLoss, 0.5), tf.mul(dflLoss, 1.5)]) as tf.Scalar;
    };
    const gathered = (r: tf.Tensor3D) => detectionLoss(r, batch, anchors, k, REG_MAX).loss;
    const [lg, gg] = [tf.valueAndGrad(gathered)(raw), tf.valueAndGrad(dense)(raw)].map((o) => [o.value.dataSync()[0], o.grad.dataSync()] as const);
    expect(lg[0]).toBeGreaterThan(0);
    expect(Math.abs(lg[0] - gg[0])).toBeLessThan(1e-5 * gg[0]);
    let maxDiff = 0;
    let maxGrad = 0;
    lg[1].forEach((v, i) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - gg[1][i]));
      maxGrad = Math.max(maxGrad, Math.abs(gg[1][i]));
    });
    expect(maxGrad).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(1e-6 + 1e-4 * maxGrad);
  });

  it('CIoU: identical boxes give 1 (loss 0); a hand-computed pair', () => {
    const a = tf.tensor2d([
      [0, 0, 2, 2],
      [10, 10, 30, 20],
    ]);
    expect(Array.from(ciou(a, a).dataSync()).map((v) => +v.toFixed(5))).toEqual([1, 1]);
    // [0,0,2,2] vs [1,0,3,2]: IoU 2/6; enclosing box 3×2 → c² = 13; centres 1 apart → ρ² = 1; same aspect → v = 0.
    expect(ciou(tf.tensor1d([0, 0, 2, 2]), tf.tensor1d([1, 0, 3, 2])).dataSync()[0]).toBeCloseTo(1 / 3 - 1 / 13, 5);
    // Aspect term: [0,0,2,2] vs [0,0,4,2]: IoU 1/2, ρ² = 1, c² = 20, v = (4/π²)(atan 2 − atan 1)², α = v / (1 − IoU + v).
    const v = (4 / Math.PI ** 2) * (Math.atan(2) - Math.atan(1)) ** 2;
    expect(ciou(tf.tensor1d([0, 0, 2, 2]), tf.tensor1d([0, 0, 4, 2])).dataSync()[0]).toBeCloseTo(0.5 - 1 / 20 - (v / (0.5 + v)) * v, 5);
  });

  it('DFL: −(wl·log p⌊t⌋ + wr·log p⌊t⌋+1), by hand', () => {
    const logits = tf.tensor1d([0.1, 0.5, 2.0, 1.0, -1.0]);
    const p = tf.softmax(logits).dataSync();
    expect(dfl(logits, tf.scalar(2.3), 5).dataSync()[0]).toBeCloseTo(-(0.7 * Math.log(p[2]) + 0.3 * Math.log(p[3])), 5);
    expect(dfl(logits, tf.scalar(2), 5).dataSync()[0]).toBeCloseTo(-Math.log(p[2]), 5); // on a bin: all weight there
  });
});

describe('task-aligned assigner', () => {
  it('picks top-k anchors inside each box, one object per anchor, targets normalised to the best IoU', () => {
    const anchors = makeAnchors([32, 32], [8]); // 4×4 anchors at 4, 12, 20, 28
    const gt = Float32Array.from([0, 0, 16, 16, 8, 8, 32, 32]); // two overlapping objects
    const pred = new Float32Array(16 * 4);
    for (let a = 0; a < 16; a++)
      pred.set([anchors.points[a * 2] - 6, anchors.points[a * 2 + 1] - 6, anchors.points[a * 2] + 6, anchors.points[a * 2 + 1] + 6], a * 4);
    const scores = new Float32Array(16 * 2).fill(0.5);
    const r = assign(scores, pred, anchors, 2, gt, Int32Array.from([0, 1]), [], { topk: 3 });
    const positives = Array.from(r.gtIndex)
      .map((g, a) => [a, g])
      .filter(([, g]) => g >= 0);
    const inside = (a: number, g: number) => {
      const [x, y] = [anchors.points[a * 2], anchors.points[a * 2 + 1]];
      return x > gt[g * 4] && y > gt[g * 4 + 1] && x < gt[g * 4 + 2] && y < gt[g * 4 + 3];
    };
    for (const [a, g] of positives) expect(inside(a, g)).toBe(true);
    expect(positives.filter(([, g]) => g === 0).length).toBeLessThanOrEqual(3);
    expect(positives.filter(([, g]) => g === 1).length).toBeGreaterThanOrEqual(1);
    for (const g of [0, 1]) {
      const mine = positives.filter(([, q]) => q === g).map(([a]) => a);
      const best = Math.max(...mine.map((a) => r.scores[a * 2 + g]));
      const bestIou = Math.max(
        ...mine.map((a) => {
          const [x1, y1, x2, y2] = pred.subarray(a * 4, a * 4 + 4);
          const iw = Math.max(0, Math.min(x2, gt[g * 4 + 2]) - Math.max(x1, gt[g * 4]));
          const ih = Math.max(0, Math.min(y2, gt[g * 4 + 3]) - Math.max(y1, gt[g * 4 + 1]));
          return (iw * ih) / (144 + (gt[g * 4 + 2] - gt[g * 4]) * (gt[g * 4 + 3] - gt[g * 4 + 1]) - iw * ih);
        }),
      );
      expect(best).toBeCloseTo(bestIou, 5);
    }
    expect(r.foreground.reduce((s, v) => s + v, 0)).toBe(positives.length);
  });

  it('anchors in a crowd region that are not positives carry no classification loss', () => {
    const anchors = makeAnchors([32, 32], [8]);
    const r = assign(new Float32Array(16).fill(0.5), new Float32Array(64), anchors, 1, new Float32Array(0), new Int32Array(0), [16, 16, 32, 32]);
    expect(Array.from(r.weight).filter((w) => w === 0).length).toBe(4); // the 2×2 anchors at 20 and 28
    expect(r.foreground.every((v) => v === 0)).toBe(true);
  });
});

describe('data and predictor', () => {
  let dir: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'detect-'));
    fs.mkdirSync(path.join(dir, 'images'));
    // A 100×60 image (wider than tall): letterboxed into 64×64 with 12.8 rows of padding above and below.
    await sharp({ create: { width: 100, height: 60, channels: 3, background: { r: 30, g: 30, b: 30 } } })
      .composite([{ input: Buffer.from('<svg width="100" height="60"><rect x="20" y="10" width="30" height="20" fill="white"/></svg>'), left: 0, top: 0 }])
      .png()
      .toFile(path.join(dir, 'images', 'a.png'));
    fs.writeFileSync(
      path.join(dir, 'ann.json'),
      JSON.stringify({
        images: [{ id: 7, file_name: 'a.png', width: 100, height: 60 }],
        annotations: [
          { id: 1, image_id: 7, category_id: 3, bbox: [20, 10, 30, 20], area: 600, iscrowd: 0 },
          { id: 2, image_id: 7, category_id: 3, bbox: [60, 30, 10, 10], area: 100, iscrowd: 1 },
        ],
        categories: [{ id: 3, name: 'box' }],
      }),
    );
  });

  it('letterboxes images and boxes together; crowd regions become ignored boxes', async () => {
    const set = await loadCocoDetection(path.join(dir, 'ann.json'), path.join(dir, 'images'), [64, 64]);
    const t = set.transforms[0];
    expect(t.scale).toBeCloseTo(0.64, 6);
    const s = set.get(0);
    expect(Array.from(s.boxes!.subarray(0, 4)).map((v) => +v.toFixed(3))).toEqual(
      [20 * 0.64 + t.padX, 10 * 0.64 + t.padY, 50 * 0.64 + t.padX, 30 * 0.64 + t.padY].map((v) => +v.toFixed(3)),
    );
    expect(Array.from(s.boxClasses!)).toEqual([0, -2]);
    // The white rectangle is where its box says, after the letterbox.
    const [x1, y1] = [Math.ceil(s.boxes![0]), Math.ceil(s.boxes![1])];
    expect(s.image[((y1 + 1) * 64 + x1 + 1) * 3]).toBeGreaterThan(200);
    expect(s.image[(2 * 64 + 2) * 3]).toBe(114); // padding
  });

  it('names the annotation and the fix for bad input', async () => {
    const bad = (patch: object) => {
      const file = path.join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
      const base = JSON.parse(fs.readFileSync(path.join(dir, 'ann.json'), 'utf8'));
      fs.writeFileSync(file, JSON.stringify({ ...base, ...patch }));
      return loadCocoDetection(file, path.join(dir, 'images'), [64, 64]);
    };
    await expect(bad({ annotations: [{ id: 5, image_id: 7, category_id: 9, bbox: [1, 1, 2, 2] }] })).rejects.toThrow(/annotation 5 names category 9/);
    await expect(bad({ annotations: [{ id: 6, image_id: 7, category_id: 3, bbox: [1, 1, 0, 2] }] })).rejects.toThrow(/annotation 6 has a zero-size box/);
    await expect(bad({ annotations: [{ id: 8, image_id: 7, category_id: 3, bbox: [90, 1, 30, 2] }] })).rejects.toThrow(
      /annotation 8's box .* is outside its 100×60 image/,
    );
    await expect(bad({ images: [{ id: 7, file_name: 'missing.png', width: 100, height: 60 }] })).rejects.toThrow(/missing.png' does not exist/);
  });

  it("yolo-n-dw: YOLO11's depthwise class branch, the same output layout with fewer parameters; its inference graph folds every Conv2D + BatchNorm", () => {
    const plain = createDetector('yolo-n', { imgsz: [64, 64], numClasses: 2, seed: 1 });
    const dw = createDetector('yolo-n-dw', { imgsz: [64, 64], numClasses: 2, seed: 1 });
    expect(dw.outputs[0].shape).toEqual(plain.outputs[0].shape);
    expect(dw.countParams()).toBeLessThan(plain.countParams());
    expect(dw.layers.filter((l) => l.getClassName() === 'DepthwiseConv2D').length).toBe(6); // 2 per level
    const fused = fuseForInference(dw);
    expect(fused.layers.filter((l) => l.getClassName() === 'Conv2D').length).toBe(6); // the heads' final 1×1 convs (no BatchNorm)
    const x = tf.randomUniform([2, 64, 64, 3], 0, 1, 'float32', 5);
    const [a, b] = [dw.predict(x) as tf.Tensor, fused.predict(x) as tf.Tensor];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-3 * Math.max(1, tf.max(tf.abs(a)).dataSync()[0]));
    tf.dispose([x, a, b]);
    fused.dispose();
    plain.dispose();
  });

  it('--backbone: a torchvision layout at strides 8/16/32, wide maps projected to 256 for the neck; strides it lacks refused', () => {
    const plain = createDetector('yolo-n', { imgsz: [64, 64], numClasses: 2, seed: 1 });
    const { model, stages, backbone } = createDetectorWithStages('yolo-n', { imgsz: [64, 64], numClasses: 2, seed: 1, backbone: 'resnet18' });
    expect(backbone).toBe('resnet18');
    expect(stages.map((s) => s.reduction)).toEqual([2, 4, 8, 16, 32]);
    expect(model.outputs[0].shape).toEqual(plain.outputs[0].shape);
    expect(model.getLayer('neck_lat5_conv').outputShape).toEqual([null, 2, 2, 256]); // layer4: 512 channels
    expect(() => model.getLayer('neck_lat3_conv')).toThrow(); // layer2: 128 channels, taken as is
    expect(plain.layers.some((l) => l.name.startsWith('neck_lat'))).toBe(false); // the sizes' own backbones are unchanged
    const x = tf.randomUniform([1, 64, 64, 3]);
    const y = model.predict(x) as tf.Tensor;
    expect(tf.all(tf.isFinite(y)).dataSync()[0]).toBe(1);
    tf.dispose([x, y]);
    expect(() => createDetectorWithStages('yolo-n', { imgsz: [64, 64], numClasses: 2, seed: 1, backbone: 'unet-enc' })).toThrow(
      /backbone 'unet-enc' does not give strides 8\/16\/32 \(its reductions: 1\/2\/4\/8\)/,
    );
    model.dispose();
    plain.dispose();
  });

  it('a training step leaks nothing, and the predictor maps boxes back to original pixels', async () => {
    const set = await loadCocoDetection(path.join(dir, 'ann.json'), path.join(dir, 'images'), [64, 64]);
    const model = createDetector('yolo-n', { imgsz: [64, 64], numClasses: 1, seed: 1 });
    const task = new DetectionTask(model, tf.train.adam(1e-3), new SampleLoader(set, { batchSize: 1 }), {
      anchors: makeAnchors([64, 64], STRIDES),
      numClasses: 1,
    });
    // close_mosaic follows the planned total (a --time budget re-plans it): the last `closeLast` epochs use the plain loader.
    const plain = new SampleLoader(set, { batchSize: 1 });
    const closing = new DetectionTask(model, tf.train.adam(1e-3), task.loader, {
      anchors: makeAnchors([64, 64], STRIDES),
      numClasses: 1,
      plainLoader: plain,
      closeLast: 2,
    });
    const used = (epoch: number, total: number) => {
      const spy = { plain: 0 };
      const orig = plain.batches.bind(plain);
      plain.batches = (seed) => ((spy.plain = 1), orig(seed));
      closing.batches(epoch, 0, total);
      plain.batches = orig;
      return spy.plain ? 'plain' : 'augmented';
    };
    expect([used(7, 10), used(8, 10), used(9, 10), used(3, 5)]).toEqual(['augmented', 'plain', 'plain', 'plain']);
    const batch = collate([set.get(0), set.get(0)]);
    await task.trainStep(batch, stepContext(0));
    const before = tf.memory();
    const logs = await task.trainStep(batch, stepContext(1));
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    for (const k of ['loss', 'box', 'cls', 'dfl']) expect(Number.isFinite(logs[k])).toBe(true);
    model.setUserDefinedMetadata({ task: 'detect', classNames: ['box'], categoryIds: [3], imgsz: [64, 64], strides: STRIDES, regMax: REG_MAX });
    const predictor = new DetectionPredictor(model);
    const img = await sharp(path.join(dir, 'images', 'a.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const [dets] = predictor.predict([{ data: img.data, width: img.info.width, height: img.info.height, channels: img.info.channels as 3 }], {
      conf: 0,
      maxDet: 50,
    });
    expect(dets.length).toBeGreaterThan(0);
    const image = { data: img.data, width: img.info.width, height: img.info.height, channels: img.info.channels as 3 };
    expect(await predictor.predictAsync([image], { conf: 0, maxDet: 50 }), 'asynchronous read-back path').toEqual([dets]);
    for (const d of dets) {
      expect(d.categoryId).toBe(3);
      expect(d.box[0]).toBeGreaterThanOrEqual(0);
      expect(d.box[2]).toBeLessThanOrEqual(100);
      expect(d.box[3]).toBeLessThanOrEqual(60);
    }
    model.dispose();
  }, 60_000);
});

describe('COCO ⇄ YOLO', () => {
  it('round-trips boxes and classes through YOLO txt labels and a dataset YAML; bad labels are named', async () => {
    const { writeShapes } = await import('@cv/data');
    const { cocoToYolo, yoloToCoco } = await import('./yolo-format');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yolo-'));
    const coco = await writeShapes(path.join(dir, 'shapes'), { n: 6, seed: 9 });
    const r = cocoToYolo(path.join(dir, 'shapes', 'annotations.json'), path.join(dir, 'shapes', 'images'), path.join(dir, 'yolo'));
    expect(r.labels).toBe(coco.annotations.length);
    const back = (await yoloToCoco(path.join(dir, 'yolo', 'data.yaml'), 'train')).coco;
    expect(back.categories.map((c) => c.name)).toEqual(['circle', 'square', 'triangle']);
    expect(back.annotations.length).toBe(coco.annotations.length);
    coco.annotations.forEach((a, i) => {
      const b = back.annotations[i];
      expect(b.category_id).toBe(a.category_id);
      b.bbox.forEach((v, k) => expect(Math.abs(v - a.bbox[k])).toBeLessThan(1e-3)); // 6 decimals of 160 px
    });
    const label = path.join(dir, 'yolo', 'labels', 'train', '00000.txt');
    fs.writeFileSync(label, '0 0.5 0.5 0.2\n');
    await expect(yoloToCoco(path.join(dir, 'yolo', 'data.yaml'))).rejects.toThrow(/00000.txt:1: expected 'class cx cy w h' \(5 numbers\)/);
    fs.writeFileSync(label, '1 0.5 1.5 0.2 0.2\n');
    await expect(yoloToCoco(path.join(dir, 'yolo', 'data.yaml'))).rejects.toThrow(/00000.txt:1: coordinates must be normalised to 0..1/);
    fs.writeFileSync(path.join(dir, 'bad.yaml'), 'path: .\ntrain: yolo/images/train\n');
    await expect(yoloToCoco(path.join(dir, 'bad.yaml'))).rejects.toThrow(/has no 'names'/);
  });
});

describe('detection confusion matrix', () => {
  it('matches detections to objects one to one; misses and false positives go to the background row and column', async () => {
    const { detectionConfusion } = await import('./matching');
    const gt = {
      images: [{ id: 1, width: 100, height: 100 }],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], iscrowd: 0 },
        { id: 2, image_id: 1, category_id: 2, bbox: [50, 50, 10, 10], iscrowd: 0 },
        { id: 3, image_id: 1, category_id: 2, bbox: [80, 80, 10, 10], iscrowd: 0 },
      ],
      categories: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
    };
    const results = [
      { image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 }, // a as a
      { image_id: 1, category_id: 1, bbox: [1, 0, 10, 10], score: 0.8 }, // duplicate: a background false positive
      { image_id: 1, category_id: 1, bbox: [50, 50, 10, 10], score: 0.7 }, // b taken for a
      { image_id: 1, category_id: 2, bbox: [20, 20, 5, 5], score: 0.1 }, // below conf: ignored
    ];
    expect(
      detectionConfusion(gt as unknown as Parameters<typeof detectionConfusion>[0], results as Parameters<typeof detectionConfusion>[1], [1, 2], {
        conf: 0.25,
        iou: 0.45,
      }),
    ).toEqual([
      [1, 0, 0],
      [1, 0, 1], // one b read as a, one b missed
      [1, 0, 0],
    ]);
    const { matchDetections } = await import('./matching');
    const { writeErrorGallery } = await import('./error-analysis');
    const m = matchDetections(gt as unknown as Parameters<typeof detectionConfusion>[0], results as Parameters<typeof detectionConfusion>[1], [1, 2]);
    expect(m.falsePositives.map((e) => [e.kind, e.score, e.otherCategoryId])).toEqual([
      ['background', 0.8, undefined],
      ['wrong class', 0.7, 2],
    ]);
    expect(m.falseNegatives.map((e) => [e.kind, e.bbox[0]])).toEqual([
      ['misread', 50],
      ['missed', 80],
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gallery-'));
    const file = path.join(dir, 'im.png');
    await sharp({ create: { width: 100, height: 100, channels: 3, background: '#808080' } })
      .png()
      .toFile(file);
    const n = await writeErrorGallery(m.falseNegatives, () => file, String, path.join(dir, 'fn.png'), { columns: 6 });
    expect(n).toBe(2);
    expect(await sharp(path.join(dir, 'fn.png')).metadata()).toMatchObject({ width: 256, height: 128 });
    expect(await writeErrorGallery([], () => file, String, path.join(dir, 'none.png'))).toBe(0);
    expect(fs.existsSync(path.join(dir, 'none.png'))).toBe(false);
    // report.md links a gallery only where there were errors to draw.
    const { writeErrorReports } = await import('./error-analysis');
    const { writeDetectionReport, evaluateDetections } = await import('./validator');
    const coco = { ...gt, annotations: gt.annotations.map((a) => ({ ...a, area: 100 })) } as unknown as Parameters<typeof writeErrorReports>[1];
    const perfect = results.slice(0, 1).concat([
      { image_id: 1, category_id: 2, bbox: [50, 50, 10, 10], score: 0.9 },
      { image_id: 1, category_id: 2, bbox: [80, 80, 10, 10], score: 0.9 },
    ]);
    for (const [name, dets, fp, fn] of [
      ['errors', results, 2, 2],
      ['none', perfect, 0, 0],
    ] as const) {
      const out = path.join(dir, name);
      const errors = await writeErrorReports(out, coco, dets as Parameters<typeof writeErrorReports>[2], [1, 2], () => file);
      expect(errors).toEqual({ falsePositives: fp, falseNegatives: fn });
      writeDetectionReport(out, evaluateDetections(coco, dets as Parameters<typeof writeErrorReports>[2]), { model: 'm' }, errors);
      const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
      const linked = [...md.matchAll(/\]\((plots\/[^)]+)\)/g)].map((g) => g[1]);
      for (const f of linked.filter((f) => f.includes('false_'))) expect(fs.existsSync(path.join(out, f))).toBe(true);
      expect(md.includes('![false positives]')).toBe(fp > 0);
      if (!fp) expect(md).toMatch(/No false positives at score ≥ 0\.25/);
    }
  });
});
