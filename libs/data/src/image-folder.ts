import fs from 'node:fs';
import path from 'node:path';
import { type CenterCropSpec, resizeCenterCrop } from '@cv/engine/core';
import { decodeImage, IMAGE_EXT, ImageError, readImage } from './image-io';
import type { ClassificationDataset, ClassificationSet } from './types';

export interface ImageFolderOptions {
  /** Images are resized to size × size. */
  size: number;
  /** 1 = gray, 3 = RGB. */
  channels: 1 | 3;
  /** Images decoded at once (sharp works on libuv threads). */
  concurrency?: number;
  /**
   * Instead of stretching to size × size: torchvision's eval transform (shorter side resized, centre crop of
   * `crop` = size), bit-exact with Pillow — the input an imported torchvision backbone expects.
   */
  centerCrop?: CenterCropSpec;
}

/** Lists `<root>/<class>/<image>` as (class, file) pairs, classes sorted by name. */
function listClassFolder(root: string): { classNames: string[]; files: { file: string; label: number }[] } {
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new ImageError(`dataset folder '${root}' does not exist; pass a folder with one sub-folder per class`);
  }
  const classNames = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  if (classNames.length === 0) throw new ImageError(`dataset folder '${root}' has no class sub-folders; put images in ${root}/<class>/`);
  const files: { file: string; label: number }[] = [];
  classNames.forEach((name, label) => {
    const dir = path.join(root, name);
    const entries = fs
      .readdirSync(dir)
      .filter((f) => !f.startsWith('.'))
      .sort();
    for (const f of entries) {
      const file = path.join(dir, f);
      if (!IMAGE_EXT.test(f)) throw new ImageError(`'${file}' is not an image file (expected .png/.jpg/.webp/...); move it out of the dataset`);
      files.push({ file, label });
    }
    if (entries.length === 0) throw new ImageError(`class folder '${dir}' is empty; add images or remove the folder`);
  });
  return { classNames, files };
}

async function decodeAll(files: { file: string; label: number }[], classNames: string[], opts: ImageFolderOptions): Promise<ClassificationSet> {
  const shape: [number, number, number] = [opts.size, opts.size, opts.channels];
  const size = shape[0] * shape[1] * shape[2];
  const images = new Uint8Array(files.length * size);
  const labels = Int32Array.from(files, (f) => f.label);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      const pixels = opts.centerCrop
        ? resizeCenterCrop(await decodeImage(files[i].file), { ...opts.centerCrop, crop: opts.size }).data
        : await readImage(files[i].file, { size: opts.size, channels: opts.channels });
      images.set(pixels, i * size);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  return { images, labels, shape, classNames, sources: files.map((f) => f.file) };
}

/**
 * An image-folder dataset: one sub-folder per class, images of any size, decoded and resized with sharp.
 * With `train/` and `test/` (or `val/`) sub-folders those are the split; otherwise every 5th image of
 * each class (sorted by file name) is test.
 *
 * @example
 * const ds = await loadImageFolder('datasets/flowers', { size: 64, channels: 3 });
 */
export async function loadImageFolder(root: string, opts: ImageFolderOptions): Promise<ClassificationDataset> {
  const sub = ['test', 'val'].map((s) => path.join(root, s)).find((p) => fs.existsSync(/*turbopackIgnore: true*/ p));
  if (fs.existsSync(path.join(root, 'train')) && sub) {
    const train = listClassFolder(path.join(root, 'train'));
    const test = listClassFolder(sub);
    if (test.classNames.join() !== train.classNames.join()) {
      throw new ImageError(`'${sub}' has classes [${test.classNames}] but '${root}/train' has [${train.classNames}]; make them match`);
    }
    return {
      name: path.basename(root),
      train: await decodeAll(train.files, train.classNames, opts),
      test: await decodeAll(test.files, test.classNames, opts),
      splitDescription: `folders train/ and ${path.basename(sub)}/`,
    };
  }
  const { classNames, files } = listClassFolder(root);
  const seen = new Array(classNames.length).fill(0);
  const isTest = files.map((f) => seen[f.label]++ % 5 === 4);
  const trainFiles = files.filter((_, i) => !isTest[i]);
  const testFiles = files.filter((_, i) => isTest[i]);
  if (testFiles.length === 0) throw new ImageError(`dataset folder '${root}' has too few images for a test split (need ≥ 5 per class)`);
  return {
    name: path.basename(root),
    train: await decodeAll(trainFiles, classNames, opts),
    test: await decodeAll(testFiles, classNames, opts),
    splitDescription: 'every 5th image of each class (by file name) is test',
  };
}
