import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@cv/engine';
import { augmentImage } from './augment';
import { loadImageFolder } from './image-folder';
import { ImageError, readImage } from './image-io';
import { DataLoader, prefetch } from './loader';
import { balancedHead, type ClassificationSet, selectClasses } from './types';

/** 30 images of 3 classes, 4×4×1, pixel value = image index (so batches can be traced). */
function tinySet(): ClassificationSet {
  const n = 30;
  const images = new Uint8Array(n * 16);
  for (let i = 0; i < n; i++) images.fill(i, i * 16, (i + 1) * 16);
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 3), shape: [4, 4, 1], classNames: ['a', 'b', 'c'] };
}

async function collect(loader: DataLoader, seed: number) {
  const out: { ids: number[]; y: number[] }[] = [];
  for await (const b of loader.batches(seed)) {
    out.push({ ids: Array.from({ length: b.y.length }, (_, i) => Math.round(b.x[i * 16] * 255)), y: Array.from(b.y) });
  }
  return out;
}

describe('DataLoader', () => {
  it('gives the same batches for the same seed and different ones for another', async () => {
    const loader = new DataLoader(tinySet(), { batchSize: 8, shuffle: true });
    const a = await collect(loader, 1);
    expect(await collect(loader, 1)).toEqual(a);
    expect(await collect(loader, 2)).not.toEqual(a);
    expect(a.map((b) => b.ids.length)).toEqual([8, 8, 8, 6]);
    expect(a.flatMap((b) => b.ids).sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i)); // a permutation
    a.forEach((b) => b.ids.forEach((id, i) => expect(b.y[i]).toBe(id % 3))); // labels follow their images
  });

  it('keeps order without shuffle, drops the last partial batch on request, scales to 0..1', async () => {
    const loader = new DataLoader(tinySet(), { batchSize: 8, dropLast: true });
    const batches = await collect(loader, 0);
    expect(batches.length).toBe(3);
    expect(batches[0].ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for await (const b of loader.batches(0)) {
      expect(Math.max(...b.x)).toBeLessThanOrEqual(1);
      expect(b.shape).toEqual([8, 4, 4, 1]);
      break;
    }
  });

  it('augments deterministically per seed', async () => {
    const loader = new DataLoader(tinySet(), { batchSize: 30, augment: { rotate: 20, brightness: 0.2, cropPadding: 1 } });
    const first = async (seed: number) => {
      for await (const b of loader.batches(seed)) return Array.from(b.x);
      return [];
    };
    expect(await first(3)).toEqual(await first(3));
    expect(await first(3)).not.toEqual(await first(4));
  });

  it('prefetch keeps at most `depth` items in flight', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    async function* source() {
      for (let i = 0; i < 20; i++) {
        produced++;
        maxAhead = Math.max(maxAhead, produced - consumed);
        yield i;
      }
    }
    const seen: number[] = [];
    for await (const v of prefetch(source(), 3)) {
      consumed++;
      seen.push(v);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxAhead).toBeLessThanOrEqual(4);
  });
});

describe('balancedHead', () => {
  it('takes the first N images with an equal share per class', () => {
    const head = balancedHead(tinySet(), 7);
    expect(Array.from(head.labels).sort()).toEqual([0, 0, 0, 1, 1, 2, 2]);
    expect(head.labels.length).toBe(7);
  });
});

describe('selectClasses', () => {
  it('keeps the given classes, relabelled in the order given, and rejects unknown ones', () => {
    const sub = selectClasses(tinySet(), [2, 0]);
    expect(sub.classNames).toEqual(['c', 'a']);
    expect(sub.labels.length).toBe(20);
    sub.labels.forEach((l, i) => expect(sub.images[i * 16] % 3).toBe(l === 0 ? 2 : 0)); // pixel value = original index
    expect(() => selectClasses(tinySet(), [0, 7])).toThrow(/class 7 does not exist; classes are 0..2/);
  });
});

describe('augmentImage', () => {
  it('flips horizontally with probability 1 and leaves the image alone when off', () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2×3×1
    augmentImage(img, [2, 3, 1], { flip: 1 }, new Rng(1));
    expect(Array.from(img)).toEqual([3, 2, 1, 6, 5, 4]);
    const same = Float32Array.from([1, 2, 3, 4, 5, 6]);
    augmentImage(same, [2, 3, 1], {}, new Rng(1));
    expect(Array.from(same)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a zero-angle, unit-scale affine is the identity', () => {
    const img = Float32Array.from({ length: 25 }, (_, i) => i / 25);
    const copy = img.slice();
    augmentImage(img, [5, 5, 1], { rotate: 1e-12 }, new Rng(1));
    img.forEach((v, i) => expect(v).toBeCloseTo(copy[i], 6));
  });
});

describe('image folder and image io', () => {
  let root: string;
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'folder-'));
    for (const [cls, value] of [
      ['dark', 20],
      ['light', 230],
    ] as const) {
      fs.mkdirSync(path.join(root, 'ds', cls), { recursive: true });
      for (let i = 0; i < 5; i++) {
        const size = 10 + i * 7; // any size: resized on load
        await sharp({ create: { width: size, height: size + 3, channels: 3, background: { r: value, g: value, b: value } } })
          .png()
          .toFile(path.join(root, 'ds', cls, `${i}.png`));
      }
    }
  });

  it('loads class sub-folders, resizes, and splits every 5th image to test', async () => {
    const ds = await loadImageFolder(path.join(root, 'ds'), { size: 8, channels: 1 });
    expect(ds.train.classNames).toEqual(['dark', 'light']);
    expect(ds.train.labels.length).toBe(8);
    expect(ds.test.labels.length).toBe(2);
    expect(ds.train.shape).toEqual([8, 8, 1]);
    expect(ds.train.images[0]).toBeCloseTo(20, -1);
    const rgb = await loadImageFolder(path.join(root, 'ds'), { size: 6, channels: 3 });
    expect(rgb.test.images.length).toBe(2 * 6 * 6 * 3);
  });

  it('keeps class indices above 255 (300 classes: labels are int32, not bytes)', async () => {
    const many = path.join(root, 'many');
    const png = await sharp({ create: { width: 2, height: 2, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .png()
      .toBuffer();
    for (let c = 0; c < 300; c++) {
      fs.mkdirSync(path.join(many, 'train', `c${String(c).padStart(3, '0')}`), { recursive: true });
      fs.mkdirSync(path.join(many, 'test', `c${String(c).padStart(3, '0')}`), { recursive: true });
      fs.writeFileSync(path.join(many, 'train', `c${String(c).padStart(3, '0')}`, '0.png'), png);
      fs.writeFileSync(path.join(many, 'test', `c${String(c).padStart(3, '0')}`, '0.png'), png);
    }
    const ds = await loadImageFolder(many, { size: 2, channels: 1 });
    expect(ds.train.classNames.length).toBe(300);
    expect(Math.max(...ds.train.labels)).toBe(299);
    expect(Array.from(ds.test.labels.subarray(255, 260))).toEqual([255, 256, 257, 258, 259]);
    const batch = (await new DataLoader(ds.train, { batchSize: 300 }).batches(0)[Symbol.asyncIterator]().next()).value!;
    expect(batch.y[299]).toBe(299);
  });

  it('names the folder or file and the fix for bad input', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-'));
    await expect(loadImageFolder(empty, { size: 8, channels: 1 })).rejects.toThrow(/has no class sub-folders/);
    fs.mkdirSync(path.join(empty, 'cat'));
    await expect(loadImageFolder(empty, { size: 8, channels: 1 })).rejects.toThrow(/class folder '.*cat' is empty/);
    fs.writeFileSync(path.join(empty, 'cat', 'notes.txt'), 'hello');
    await expect(loadImageFolder(empty, { size: 8, channels: 1 })).rejects.toThrow(/notes.txt' is not an image file/);
    const bad = path.join(root, 'corrupt.png');
    fs.writeFileSync(bad, Buffer.from('89504e470d0a1a0a0000', 'hex'));
    await expect(readImage(bad, { size: 8, channels: 1 })).rejects.toThrow(ImageError);
    await expect(readImage(bad, { size: 8, channels: 1 })).rejects.toThrow(/corrupt.png' is not a readable image/);
    fs.writeFileSync(path.join(root, 'zero.png'), '');
    await expect(readImage(path.join(root, 'zero.png'), { size: 8, channels: 1 })).rejects.toThrow(/is 0 bytes/);
    await expect(readImage(path.join(root, 'nope.png'), { size: 8, channels: 1 })).rejects.toThrow(/does not exist/);
    await expect(loadImageFolder(path.join(root, 'missing'), { size: 8, channels: 1 })).rejects.toThrow(/does not exist/);
  });
});
