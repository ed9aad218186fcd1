/**
 * The e2e fixtures (written to e2e/.fixtures, not committed): a known MNIST test digit, a shapes scene of a
 * seed no model saw with its truth (boxes, pixel shares), the same scene as a 640×480 JPEG, and bad uploads
 * (a text file named .png, 0 bytes, 20 MB, 10,000 × 10,000 pixels).
 *
 *   npx tsx e2e/make-fixtures.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadMnist, makeShapesImage, SHAPE_CLASSES, SHAPES_SIZE } from '@cv/data';
import { Rng } from '@cv/engine/core';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '.fixtures');
fs.mkdirSync(dir, { recursive: true });
const raw = (data: Uint8Array, width: number, height: number, channels: 1 | 3) => sharp(Buffer.from(data), { raw: { width, height, channels } });

// A digit from the test split (the shipped MNIST model never trained on it).
const mnist = loadMnist();
const digitIndex = 417;
await raw(mnist.test.images.subarray(digitIndex * 784, (digitIndex + 1) * 784), 28, 28, 1)
  .png()
  .toFile(path.join(dir, 'digit.png'));

// A shapes scene of seed 13 (the detector and segmenter trained on seed 1, validated on 2 and 3).
const seed = 13;
const index = 2;
const scene = makeShapesImage(seed, index);
await raw(scene.pixels, SHAPES_SIZE, SHAPES_SIZE, 3).png().toFile(path.join(dir, 'shapes.png'));
await raw(scene.pixels, SHAPES_SIZE, SHAPES_SIZE, 3).resize(640, 480, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(path.join(dir, 'shapes-640x480.jpg'));
const names = ['background', ...SHAPE_CLASSES];
const counts = new Array(names.length).fill(0);
for (const v of scene.semantic) counts[v]++;
const truth = {
  digit: { index: digitIndex, label: mnist.test.classNames[mnist.test.labels[digitIndex]] },
  shapes: {
    seed,
    index,
    objects: scene.objects.map((o) => ({ label: SHAPE_CLASSES[o.categoryId - 1], box: o.bbox })),
    coverage: Object.fromEntries(names.map((n, i) => [n, counts[i] / scene.semantic.length])),
  },
};
fs.writeFileSync(path.join(dir, 'truth.json'), JSON.stringify(truth, null, 2));

// Bad uploads.
fs.writeFileSync(path.join(dir, 'text.png'), 'this is a text file, not an image\n');
fs.writeFileSync(path.join(dir, 'empty.png'), '');
const rng = new Rng(7);
const noise = Uint8Array.from({ length: 2700 * 2700 * 3 }, () => rng.int(256));
await raw(noise, 2700, 2700, 3).png({ compressionLevel: 0 }).toFile(path.join(dir, 'big-20mb.png'));
await sharp({ create: { width: 10000, height: 10000, channels: 3, background: { r: 40, g: 90, b: 160 } } })
  .png({ compressionLevel: 9 })
  .toFile(path.join(dir, 'huge-10000.png'));
const size = (f: string) => `${f} ${(fs.statSync(path.join(dir, f)).size / 1048576).toFixed(2)} MB`;
console.log(`[e2e] fixtures in ${dir}: ${['digit.png', 'shapes.png', 'shapes-640x480.jpg', 'big-20mb.png', 'huge-10000.png'].map(size).join(', ')}`);
