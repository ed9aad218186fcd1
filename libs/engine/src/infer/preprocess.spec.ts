import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect, it } from 'vitest';
import { initBackend } from './backend';
import { fitImage, imageTensor, letterbox, prepareInput, toUnitRange, unitRange, unletterboxBoxes } from './preprocess';

beforeAll(async () => {
  await initBackend({ log: false });
});

it('bytes → 0..1 is bit-identical in plain arrays (loaders) and tensors (predictors) for every byte value', () => {
  const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  expect(Array.from(toUnitRange(tf.tensor1d(bytes, 'int32')).dataSync())).toEqual(Array.from(unitRange(bytes)));
});

it('converts channels: alpha dropped, RGB → BT.601 luma, grey → RGB', () => {
  const rgba = { data: Uint8Array.from([255, 0, 0, 7, 0, 255, 0, 9]), width: 2, height: 1, channels: 4 as const };
  expect(Array.from(imageTensor(rgba, 3).dataSync())).toEqual([255, 0, 0, 0, 255, 0]);
  const grey = Array.from(imageTensor(rgba, 1).dataSync());
  expect(grey[0]).toBeCloseTo(0.299 * 255, 3);
  expect(grey[1]).toBeCloseTo(0.587 * 255, 3);
  expect(Array.from(imageTensor({ data: Uint8Array.from([10]), width: 1, height: 1, channels: 1 }, 3).dataSync())).toEqual([10, 10, 10]);
  expect(() => imageTensor({ data: new Uint8Array(5), width: 2, height: 2, channels: 1 }, 1)).toThrow(/5 bytes for 2×2×1/);
});

it('resizes with one interpolation to whole values and keeps an image already at size unchanged', () => {
  const img = { data: Uint8Array.from({ length: 6 * 4 }, (_, i) => i * 10), width: 6, height: 4, channels: 1 as const };
  const same = fitImage(img, { shape: [4, 6, 1] }).pixels;
  expect(Array.from(same.dataSync())).toEqual(Array.from(img.data));
  const small = fitImage(img, { shape: [2, 3, 1] }).pixels.dataSync();
  expect(Array.from(small).every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
  const { x } = prepareInput([img, img], { shape: [8, 8, 1] });
  expect(x.shape).toEqual([2, 8, 8, 1]);
  expect(x.max().dataSync()[0]).toBeLessThanOrEqual(1);
});

it('letterbox keeps the aspect ratio on grey padding, and its inverse maps boxes back to the original image', () => {
  const x = tf.fill([30, 60, 3], 200) as tf.Tensor3D;
  const { pixels, transform } = letterbox(x, [64, 64]);
  expect(pixels.shape).toEqual([64, 64, 3]);
  expect(transform.scale).toBeCloseTo(64 / 60, 12);
  expect(transform.padY).toBe(16); // 32 rows of image, 16 of padding above and below
  expect(pixels.slice([0, 0, 0], [1, 1, 1]).dataSync()[0]).toBe(114);
  expect(pixels.slice([32, 32, 0], [1, 1, 1]).dataSync()[0]).toBe(200);
  const box = [10, 5, 40, 25];
  const inInput = [
    box[0] * transform.scale + transform.padX,
    box[1] * transform.scale + transform.padY,
    box[2] * transform.scale + transform.padX,
    box[3] * transform.scale + transform.padY,
  ];
  Array.from(unletterboxBoxes(inInput, transform)).forEach((v, i) => expect(v).toBeCloseTo(box[i], 4));
});

it('a batch already at the input size takes the one-copy path with the values of the per-image path', () => {
  const at = (seed: number) => ({ data: Uint8Array.from({ length: 4 * 6 * 3 }, (_, i) => (i * 37 + seed) % 256), width: 6, height: 4, channels: 3 as const });
  const images = [at(1), at(2), at(3)];
  const spec = { shape: [4, 6, 3] as [number, number, number], fit: 'letterbox' as const };
  const fast = prepareInput(images, spec);
  // The per-image path: each image fitted on its own, stacked, scaled.
  const slow = tf.tidy(() => toUnitRange(tf.stack(images.map((img) => fitImage(img, spec).pixels))));
  expect(Array.from(fast.x.dataSync())).toEqual(Array.from(slow.dataSync()));
  expect(fast.transforms).toEqual(images.map(() => ({ scale: 1, padX: 0, padY: 0, width: 6, height: 4 })));
  // One image of another size or with alpha sends the batch through the per-image path, same values for the others.
  const mixed = prepareInput([...images, { data: new Uint8Array(4 * 6 * 4).fill(9), width: 6, height: 4, channels: 4 }], spec);
  expect(Array.from(mixed.x.dataSync()).slice(0, 3 * 72)).toEqual(Array.from(slow.dataSync()));
  expect(Array.from(mixed.x.dataSync()).slice(3 * 72)).toEqual(new Array(72).fill(9 / 255).map((v) => Math.fround(v)));
});
