import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { encode as encodePng } from 'fast-png';
import { encode } from 'coco-ts-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { collate, RandomAffine, RandomFlip, type Sample, SampleLoader } from '@cv/data';
import { initBackend, Rng, stepContext } from '@cv/engine';
import { SegmentationConfusion, segmentationMetrics } from '@cv/metrics';
import { letterboxMask, loadSegmentationData, readClassMask } from './data';
import { instancesOf } from './instances';
import { IGNORE, parseLoss, segmentationLoss } from './losses';
import { createSegmenter } from './models';
import { SegmentationPredictor, tileOrigins } from './predictor';
import { SegmentationTask } from './step';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', log: () => {} });
});

/** Logits that put (almost) all probability on `cls` per pixel, or the given probabilities. */
const confident = (classes: number[], c: number) =>
  tf.tensor4d(
    classes.flatMap((k) => Array.from({ length: c }, (_, j) => (j === k ? 30 : -30))),
    [1, 1, classes.length, c],
  );
const target = (v: number[]) => tf.tensor3d(v, [1, 1, v.length], 'int32');
const value = (name: string, logits: tf.Tensor4D, t: tf.Tensor3D, extra = {}) => {
  const { loss, parts } = segmentationLoss(logits, t, { terms: parseLoss(name), ...extra });
  const v = loss.dataSync()[0];
  tf.dispose([loss, ...Object.values(parts)]);
  return v;
};

describe('segmentation losses against hand-computed values', () => {
  it('Dice and Jaccard: identical masks → 0; an all-wrong mask → 1 per class present in the truth (smp averages over all classes)', () => {
    expect(value('dice', confident([0, 1, 1, 2], 3), target([0, 1, 1, 2]))).toBeCloseTo(0, 6);
    expect(value('jaccard', confident([0, 1, 1, 2], 3), target([0, 1, 1, 2]))).toBeCloseTo(0, 6);
    // Truth all class 0, prediction all class 1: class 0 scores 0 (loss 1), class 1 is absent from the truth (0) → mean 0.5.
    expect(value('dice', confident([1, 1, 1, 1], 2), target([0, 0, 0, 0]))).toBeCloseTo(0.5, 6);
    // Soft Dice by hand: probabilities (0.25, 0.75) at one pixel of class 1: class 1: 2·0.75 / (0.75 + 1) ; class 0 absent → 0.
    const logits = tf.tensor4d([0, Math.log(3)], [1, 1, 1, 2]);
    expect(value('dice', logits, target([1]))).toBeCloseTo((1 - 1.5 / 1.75) / 2, 6);
    expect(value('jaccard', logits, target([1]))).toBeCloseTo((1 - 0.75 / 1) / 2, 6);
  });

  it('ce+dice in one op equals the composed tensor form: value, each term and the gradient (ignored pixels, an absent class)', () => {
    const [b, h, w, c] = [2, 5, 6, 4];
    const logits = tf.randomNormal([b, h, w, c], 0, 2, 'float32', 11) as tf.Tensor4D;
    const labels = Int32Array.from({ length: b * h * w }, (_, i) => (i % 7 === 0 ? IGNORE : (i * 5) % 3)); // class 3 absent
    const target = tf.tensor3d(labels, [b, h, w], 'int32');
    for (const terms of ['ce+dice', '0.5*ce+2*dice', 'dice', 'ce']) {
      const fused = (x: tf.Tensor) => segmentationLoss(x as tf.Tensor4D, target, { terms: parseLoss(terms) });
      const composed = (x: tf.Tensor) => segmentationLoss(x as tf.Tensor4D, target, { terms: parseLoss(terms), classWeights: [1, 1, 1, 1] });
      const [f, r] = [fused, composed].map((fn) => tf.valueAndGrad((x: tf.Tensor) => fn(x).loss)(logits));
      expect(f.value.dataSync()[0]).toBeCloseTo(r.value.dataSync()[0], 5);
      const fg = f.grad.dataSync();
      const rg = r.grad.dataSync();
      let diff = 0;
      let scale = 0;
      rg.forEach((v, i) => ((diff = Math.max(diff, Math.abs(v - fg[i]))), (scale = Math.max(scale, Math.abs(v)))));
      expect(scale).toBeGreaterThan(0);
      expect(diff).toBeLessThan(1e-5 * scale);
      const fp = fused(logits).parts;
      const rp = composed(logits).parts;
      for (const k of Object.keys(rp)) expect(fp[k].dataSync()[0]).toBeCloseTo(rp[k].dataSync()[0], 5);
    }
  });

  it('cross-entropy with class weights is Σ w·nll / Σ w; focal is (1 − p)^γ · nll; ignored pixels change nothing', () => {
    const logits = tf.tensor4d([0, Math.log(3), 0, Math.log(3)], [1, 1, 2, 2]); // p = (0.25, 0.75) at both pixels
    const t = target([0, 1]);
    expect(value('ce', logits, t)).toBeCloseTo((Math.log(4) + Math.log(4 / 3)) / 2, 6);
    expect(value('ce', logits, t, { classWeights: [2, 1] })).toBeCloseTo((2 * Math.log(4) + Math.log(4 / 3)) / 3, 6);
    expect(value('focal', logits, t)).toBeCloseTo((0.75 ** 2 * Math.log(4) + 0.25 ** 2 * Math.log(4 / 3)) / 2, 6);
    expect(value('0.5*ce+dice', logits, t)).toBeCloseTo(0.5 * value('ce', logits, t) + value('dice', logits, t), 6);
    // A third pixel marked IGNORE, whatever its logits: every term is unchanged.
    const withIgnored = tf.tensor4d([0, Math.log(3), 0, Math.log(3), 5, -5], [1, 1, 3, 2]);
    for (const name of ['ce', 'dice', 'focal', 'jaccard'])
      expect(value(name, withIgnored, target([0, 1, IGNORE])), name).toBeCloseTo(value(name, logits, t), 6);
    expect(() => parseLoss('ce+bce')).toThrow(/'bce' is not a term; use a sum of ce, dice, focal, jaccard/);
    expect(() => value('ce', logits, t, { classWeights: [1] })).toThrow(/1 given for 2 classes/);
  });
});

describe('segmentation metrics', () => {
  it('IoU per class from one confusion matrix; a class absent from truth and prediction is excluded (null), not 0 or 1', () => {
    const truth = [0, 0, 1, 1, 1, 0, IGNORE];
    const pred = [0, 1, 1, 1, 0, 0, 3];
    const m = segmentationMetrics(new SegmentationConfusion(4).add(truth, pred));
    // class 0: TP 2, FP 1, FN 1 → 0.5; class 1: TP 2, FP 1, FN 1 → 0.5; classes 2, 3: absent → null.
    expect(m.perClassIou).toEqual([0.5, 0.5, null, null]);
    expect(m.miou).toBe(0.5);
    expect(m.miouAll).toBe(0.5);
    expect(m.dice[1]).toBeCloseTo(2 / 3, 12);
    expect(m.pixelAccuracy).toBeCloseTo(4 / 6, 12);
    expect(() => new SegmentationConfusion(2).add([5], [0])).toThrow(/truth value 5 at pixel 0 is not a class/);
  });
});

describe('instances and masks', () => {
  it('connected components per class become RLEs equal to coco-ts-api encode of each hand-drawn object', () => {
    const [w, h] = [8, 6];
    const mask = new Uint8Array(w * h);
    const draw = (x0: number, y0: number, x1: number, y1: number, c: number) => {
      const m = new Uint8Array(w * h);
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ((mask[y * w + x] = c), (m[y * w + x] = 1));
      return m;
    };
    const a = draw(0, 0, 2, 2, 1);
    const b = draw(5, 3, 8, 6, 1);
    const c = draw(3, 0, 4, 5, 2); // touches neither (one column apart from a)
    const objects = instancesOf(mask, w, h);
    expect(objects.map((o) => [o.classIndex, o.area])).toEqual([
      [1, 4],
      [2, 5],
      [1, 9],
    ]);
    expect(objects.map((o) => o.rle)).toEqual([a, c, b].map((data) => encode({ height: h, width: w, data })));
  });

  it('reads grey and palette class masks, and letterboxes a mask with its image (padding ignored)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'masks-'));
    const data = Uint8Array.from([0, 1, 2, 3, 3, 2]);
    fs.writeFileSync(path.join(dir, 'grey.png'), encodePng({ width: 3, height: 2, data, channels: 1, depth: 8 }));
    fs.writeFileSync(
      path.join(dir, 'palette.png'),
      encodePng({
        width: 3,
        height: 2,
        data,
        channels: 1,
        depth: 8,
        palette: [
          [0, 0, 0],
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
        ],
      }),
    );
    expect(Array.from(readClassMask(path.join(dir, 'grey.png')).data)).toEqual(Array.from(data));
    expect(Array.from(readClassMask(path.join(dir, 'palette.png')).data)).toEqual(Array.from(data));
    await sharp({ create: { width: 2, height: 2, channels: 3, background: '#ff0000' } })
      .png()
      .toFile(path.join(dir, 'rgb.png'));
    expect(() => readClassMask(path.join(dir, 'rgb.png'))).toThrow(/is a colour image .* give class-index masks/);
    // A 4×2 mask letterboxed into 4×4: scale 1, one padded row above and below.
    const lb = letterboxMask(
      { data: Uint8Array.from([1, 1, 2, 2, 1, 1, 2, 2]), width: 4, height: 2 },
      { scale: 1, padX: 0, padY: 1, width: 4, height: 2 },
      [4, 4],
    );
    expect(Array.from(lb)).toEqual([255, 255, 255, 255, 1, 1, 2, 2, 1, 1, 2, 2, 255, 255, 255, 255]);
  });

  it('bad input fails with one line naming the file: size mismatch, a value that is not a class, an image without a mask, a short polygon', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'segbad-'));
    const images = path.join(dir, 'images');
    const masks = path.join(dir, 'masks');
    fs.mkdirSync(images);
    fs.mkdirSync(masks);
    await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } })
      .png()
      .toFile(path.join(images, 'a.png'));
    const opts = { imgsz: [32, 32] as [number, number] };
    await expect(loadSegmentationData({ images, masks }, opts)).rejects.toThrow(/image '.*a\.png' has no mask in '.*masks'; add a\.png there/);
    fs.writeFileSync(path.join(masks, 'a.png'), encodePng({ width: 3, height: 4, data: new Uint8Array(12), channels: 1, depth: 8 }));
    await expect(loadSegmentationData({ images, masks }, opts)).rejects.toThrow(/mask .*a\.png is 3×4 but its image .* is 4×4; masks must match/);
    fs.writeFileSync(path.join(masks, 'a.png'), encodePng({ width: 4, height: 4, data: new Uint8Array(16).fill(3), channels: 1, depth: 8 }));
    await expect(loadSegmentationData({ images, masks }, { ...opts, classNames: ['background', 'thing'] })).rejects.toThrow(
      /has value 3 at pixel \(0, 0\), but the classes are 0\.\.1 \(background, thing\)/,
    );
    const coco = path.join(dir, 'coco.json');
    const ann = { id: 7, image_id: 1, category_id: 1, segmentation: [[0, 0, 3, 0]], area: 1, bbox: [0, 0, 3, 1], iscrowd: 0 };
    fs.writeFileSync(
      coco,
      JSON.stringify({ images: [{ id: 1, file_name: 'a.png', width: 4, height: 4 }], annotations: [ann], categories: [{ id: 1, name: 'thing' }] }),
    );
    await expect(loadSegmentationData({ data: coco, images }, opts)).rejects.toThrow(/annotation 7's polygon 0 has 2 points; a polygon needs at least 3/);
    ann.segmentation = [[0, 0, 3, 0, 3, 3]];
    fs.writeFileSync(
      coco,
      JSON.stringify({ images: [{ id: 1, file_name: 'a.png', width: 4, height: 4 }], annotations: [ann], categories: [{ id: 1, name: 'thing' }] }),
    );
    const set = await loadSegmentationData({ data: coco, images }, opts);
    expect(set.classNames).toEqual(['background', 'thing']);
    expect(set.truth(0).data.reduce((a, v) => a + v, 0)).toBeGreaterThan(0);
  });
});

describe('augmentation keeps image and mask aligned', () => {
  it('a block drawn in both stays in both after affine + flip', () => {
    const [h, w] = [32, 32];
    const image = new Uint8Array(h * w * 3);
    const mask = new Uint8Array(h * w);
    for (let y = 8; y < 20; y++) for (let x = 6; x < 22; x++) ((mask[y * w + x] = 1), image.fill(200, (y * w + x) * 3, (y * w + x) * 3 + 3));
    const rng = new Rng(3);
    const affine = new RandomAffine({ degrees: 20, scale: 0.3, translate: 0.2 });
    const flip = new RandomFlip(0.5);
    for (let trial = 0; trial < 10; trial++) {
      const s = flip.apply(affine.apply({ image, shape: [h, w, 3], mask }, rng), rng);
      for (let i = 0; i < h * w; i++) {
        const v = s.image[i * 3];
        if (v === 200) expect(s.mask![i], `pixel ${i}`).toBe(1);
        if (s.mask![i] === 1) expect(v, `pixel ${i}`).toBeGreaterThanOrEqual(50);
        if (s.mask![i] === 0) expect(v, `pixel ${i}`).toBeLessThanOrEqual(150);
      }
    }
  });
});

describe('the U-Net, its Predictor and its training step', () => {
  const meta = { task: 'segment', classNames: ['background', 'a', 'b'], imgsz: [32, 32], reduction: 32 };

  it('outputs logits at the input size for sizes that are multiples of the reduction, both upsampling modes', () => {
    for (const upsample of ['nearest', 'transpose'] as const) {
      const m = createSegmenter('unet-n', { numClasses: 3, seed: 1, upsample });
      const y = m.predict(tf.zeros([1, 64, 96, 3])) as tf.Tensor;
      expect(y.shape).toEqual([1, 64, 96, 3]);
      tf.dispose([y]);
      m.dispose();
    }
    const classic = createSegmenter('unet-n', { numClasses: 2, seed: 1, encoder: 'unet-enc' });
    expect((classic.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor).shape).toEqual([1, 32, 32, 2]);
    // A torchvision layout as the encoder (explicit padding at stride 2, squeeze-excitation) at any multiple of 32.
    const mobile = createSegmenter('unet-n', { numClasses: 2, seed: 1, encoder: 'mobilenet_v3_small' });
    expect((mobile.predict(tf.zeros([1, 64, 96, 3])) as tf.Tensor).shape).toEqual([1, 64, 96, 2]);
    mobile.dispose();
  });

  it('loads pretrained encoder weights by layer name (the decoder stays fresh)', async () => {
    const { createBackbone, loadPretrained } = await import('@cv/backbones');
    const { saveModel } = await import('@cv/engine');
    const donor = createBackbone('resnet-s', { inputShape: [32, 32, 3], featuresOnly: true, seed: 9 }).model;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'enc-'));
    await saveModel(donor, dir);
    const model = createSegmenter('unet-n', { numClasses: 2, seed: 1, encoder: 'resnet-s' });
    const report = await loadPretrained(model, 'resnet-s', dir);
    expect(report.loaded.length).toBe(donor.layers.filter((l) => l.getWeights().length).length);
    const name = donor.layers.find((l) => l.getWeights().length)!.name;
    expect(Array.from(model.getLayer(name).getWeights()[0].dataSync())).toEqual(Array.from(donor.getLayer(name).getWeights()[0].dataSync()));
    expect(report.skipped.some((s) => s.layer.startsWith('decoder'))).toBe(true);
  });

  it('tiled prediction equals whole-image prediction for a per-pixel model; tiles cover the image', () => {
    expect(tileOrigins(100, 32, 8)).toEqual([0, 24, 48, 68]);
    expect(tileOrigins(20, 32, 8)).toEqual([0]);
    const input = tf.input({ shape: [null, null, 3] as unknown as number[] });
    const out = tf.layers
      .conv2d({ filters: 3, kernelSize: 1, kernelInitializer: tf.initializers.randomNormal({ seed: 2, stddev: 3 }) })
      .apply(input) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    model.setUserDefinedMetadata({ ...meta, reduction: 1 });
    const p = new SegmentationPredictor(model);
    const img = { data: Uint8Array.from({ length: 50 * 70 * 3 }, (_, i) => (i * 53) % 256), width: 70, height: 50, channels: 3 as const };
    const whole = p.predict([img], { mode: 'whole' })[0];
    const tiled = p.predict([img], { mode: 'tiles', tile: 24, overlap: 6 })[0];
    expect(Array.from(tiled.mask)).toEqual(Array.from(whole.mask));
    tiled.confidence.forEach((c, i) => expect(Math.abs(c - whole.confidence[i])).toBeLessThan(1e-5));
  });

  it('a train step lowers the loss on a fixed batch without leaking tensors; predict leaks none and maps back to the image size', async () => {
    const model = createSegmenter('unet-n', { numClasses: 3, seed: 1 });
    model.setUserDefinedMetadata(meta);
    const sample = (k: number): Sample => {
      const image = new Uint8Array(32 * 32 * 3);
      const mask = new Uint8Array(32 * 32);
      for (let y = 4; y < 20; y++)
        for (let x = 4 + k; x < 20 + k; x++) ((mask[y * 32 + x] = 1 + (k % 2)), image.fill(220 - 60 * (k % 2), (y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
      return { image, shape: [32, 32, 3], mask };
    };
    const set = { length: 4, classNames: meta.classNames, get: (i: number) => sample(i) };
    const loader = new SampleLoader(set, { batchSize: 4 });
    const task = new SegmentationTask(model, tf.train.adam(5e-3), loader, { loss: { terms: parseLoss('ce+dice') } });
    const batch = collate([0, 1, 2, 3].map(sample));
    const first = await task.trainStep(batch, stepContext(0));
    const before = tf.memory().numTensors;
    let last = first;
    for (let i = 1; i < 6; i++) last = await task.trainStep(batch, stepContext(i));
    expect(tf.memory().numTensors).toBe(before);
    expect(last.loss).toBeLessThan(first.loss);
    expect(Object.keys(last).sort()).toEqual(['ce', 'dice', 'loss']);
    const p = new SegmentationPredictor(model);
    const img = { data: new Uint8Array(40 * 50 * 3), width: 50, height: 40, channels: 3 as const };
    const n = tf.memory().numTensors;
    for (const mode of ['resize', 'whole', 'tiles'] as const) {
      const [r] = p.predict([img], { mode });
      expect([r.width, r.height, r.mask.length], mode).toEqual([50, 40, 2000]);
      expect(r.pixelShare.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      // the asynchronous read-back path (WebGPU) gives the same answer
      expect(await p.predictAsync([img], { mode }), mode).toEqual([r]);
    }
    expect(tf.memory().numTensors).toBe(n);
  }, 60_000);
});
