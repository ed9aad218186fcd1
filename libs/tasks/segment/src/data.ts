import fs from 'node:fs';
import path from 'node:path';
import { decode as decodePng } from 'fast-png';
import { COCO, type CocoDataset } from 'coco-ts-api';
import { decodeImage, IMAGE_EXT, type Sample, type SampleSet } from '@cv/data';
import { ConfigError, fitImageToBytes, type LetterboxTransform } from '@cv/engine';
import { IGNORE } from './losses';

/** A segmentation set in memory: images letterboxed to the training size, masks with them (padding ignored). */
export interface SegmentationSet extends SampleSet {
  /** Class names, index = mask value (background first). */
  classNames: string[];
  /** Each sample's image file. */
  files: string[];
  transforms: LetterboxTransform[];
  /** Where the set came from, for logs and reports. */
  description: string;
  /** Sample i's true mask at its image's own size (read again from its source). */
  truth(i: number): ClassMask;
}

/** A class-index mask at its own size. */
export interface ClassMask {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Reads a class-index mask PNG: 8-bit grey (pixel = class), a palette PNG (pixel = palette index, as
 * Pascal VOC's), or RGB / grey+alpha whose channels are equal. Anything else fails naming the file.
 */
export function readClassMask(file: string): ClassMask {
  if (!fs.existsSync(file)) throw new ConfigError(`mask '${file}' does not exist`);
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(fs.readFileSync(file));
  } catch (e) {
    throw new ConfigError(`mask '${file}' is not a readable PNG (${(e as Error).message}); masks are PNGs with one class index per pixel`);
  }
  const { width, height, channels, depth } = png;
  if (depth !== 8 && !(png.palette && depth <= 8))
    throw new ConfigError(`mask '${file}' has ${depth}-bit samples; write 8-bit class-index PNGs (grey or palette)`);
  const src = png.data as Uint8Array;
  if (png.palette || channels === 1) {
    if (depth === 8) return { data: Uint8Array.from(src.subarray(0, width * height)), width, height };
    // Packed palette indices (1, 2 or 4 bits), rows padded to whole bytes.
    const data = new Uint8Array(width * height);
    const perByte = 8 / depth;
    const rowBytes = Math.ceil(width / perByte);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) {
        const byte = src[y * rowBytes + Math.floor(x / perByte)];
        data[y * width + x] = (byte >> (8 - depth * ((x % perByte) + 1))) & ((1 << depth) - 1);
      }
    return { data, width, height };
  }
  const data = new Uint8Array(width * height);
  const colour = channels >= 3 ? 3 : 1;
  for (let i = 0; i < width * height; i++) {
    const v = src[i * channels];
    for (let k = 1; k < colour; k++)
      if (src[i * channels + k] !== v)
        throw new ConfigError(
          `mask '${file}' is a colour image (pixel ${i % width},${Math.floor(i / width)} is ${Array.from(src.subarray(i * channels, i * channels + colour))}); give class-index masks (grey or palette PNG, pixel = class)`,
        );
    data[i] = v;
  }
  return { data, width, height };
}

/** A mask letterboxed like its image (nearest neighbour; padding = IGNORE). */
export function letterboxMask(mask: ClassMask, t: LetterboxTransform, [h, w]: [number, number]): Uint8Array {
  if (t.scale === 1 && t.padX === 0 && t.padY === 0 && mask.width === w && mask.height === h) return mask.data;
  const out = new Uint8Array(h * w).fill(IGNORE);
  for (let y = 0; y < h; y++) {
    const sy = Math.floor((y - t.padY + 0.5) / t.scale);
    if (sy < 0 || sy >= mask.height) continue;
    for (let x = 0; x < w; x++) {
      const sx = Math.floor((x - t.padX + 0.5) / t.scale);
      if (sx >= 0 && sx < mask.width) out[y * w + x] = mask.data[sy * mask.width + sx];
    }
  }
  return out;
}

/** Where a set's masks come from: image + mask folders (matched by file name) or a COCO segmentation file. */
export type SegmentationSource = { images: string; masks: string } | { data: string; images: string };

/** Image files of a folder and each one's mask (same name, any image extension; PNG preferred). */
export function pairMasks(images: string, masks: string): { image: string; mask: string }[] {
  for (const [flag, dir] of [
    ['--images', images],
    ['--masks', masks],
  ])
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new ConfigError(`${flag} '${dir}' is not a folder`);
  const maskFiles = new Map<string, string>();
  for (const f of fs.readdirSync(masks).sort()) {
    if (!IMAGE_EXT.test(f)) continue;
    const stem = path.parse(f).name;
    if (!maskFiles.has(stem) || /\.png$/i.test(f)) maskFiles.set(stem, f);
  }
  const files = fs
    .readdirSync(images)
    .filter((f) => IMAGE_EXT.test(f))
    .sort();
  if (!files.length) throw new ConfigError(`--images '${images}' holds no images (.png, .jpg, ...)`);
  return files.map((f) => {
    const m = maskFiles.get(path.parse(f).name);
    if (!m) throw new ConfigError(`image '${path.join(images, f)}' has no mask in '${masks}'; add ${path.parse(f).name}.png there or remove the image`);
    return { image: path.join(images, f), mask: path.join(masks, m) };
  });
}

/** Class names of a mask folder: `classes.txt` in it (one per line, line i = value i), else from the largest value. */
function folderClassNames(masks: string, maxValue: number): string[] {
  const txt = path.join(masks, 'classes.txt');
  if (fs.existsSync(txt))
    return fs
      .readFileSync(txt, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean);
  return Array.from({ length: maxValue + 1 }, (_, i) => (i === 0 ? 'background' : `class${i}`));
}

/** Semantic masks of a COCO file's images: each object painted with its class (category order + 1), crowds ignored. */
function cocoMasks(file: string): { coco: CocoDataset; names: string[]; maskOf: (imageId: number) => ClassMask } {
  if (!fs.existsSync(file)) throw new ConfigError(`COCO file '${file}' does not exist; pass --data <annotations.json>`);
  let dataset: CocoDataset;
  try {
    dataset = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`'${file}' is not valid JSON (${(e as Error).message.split('\n')[0]}); fix the file`);
  }
  for (const key of ['images', 'annotations', 'categories'] as const)
    if (!Array.isArray(dataset[key]))
      throw new ConfigError(`'${file}' has no '${key}' list; a COCO segmentation file needs images, annotations and categories`);
  const cats = [...dataset.categories!].sort((a, b) => a.id - b.id);
  const classOf = new Map(cats.map((c, i) => [c.id, i + 1]));
  const images = new Map(dataset.images!.map((im) => [im.id, im]));
  for (const a of dataset.annotations!) {
    if (!images.has(a.image_id)) throw new ConfigError(`${file}: annotation ${a.id} names image ${a.image_id}, which is not in 'images'; fix or remove it`);
    if (!classOf.has(a.category_id!))
      throw new ConfigError(`${file}: annotation ${a.id} names category ${a.category_id}, which is not in 'categories'; fix it`);
    const seg = a.segmentation;
    if (!seg) throw new ConfigError(`${file}: annotation ${a.id} has no segmentation; give it a polygon or RLE`);
    if (Array.isArray(seg))
      seg.forEach((poly, k) => {
        if (!Array.isArray(poly) || poly.length < 6)
          throw new ConfigError(
            `${file}: annotation ${a.id}'s polygon ${k} has ${Array.isArray(poly) ? Math.floor(poly.length / 2) : 0} points; a polygon needs at least 3 (6 numbers) — fix or remove it`,
          );
      });
  }
  const coco = new COCO(dataset);
  return {
    coco: dataset,
    names: ['background', ...cats.map((c) => String(c.name))],
    maskOf: (id) => {
      const im = images.get(id)!;
      const data = new Uint8Array(im.width! * im.height!);
      for (const a of coco.imgToAnns.get(id) ?? []) {
        const m = coco.annToMask(a);
        const v = a.iscrowd ? IGNORE : classOf.get(a.category_id!)!;
        for (let i = 0; i < data.length; i++) if (m.data[i]) data[i] = v;
      }
      return { data, width: im.width!, height: im.height! };
    },
  };
}

export interface LoadOptions {
  /** Training size [H, W]: images letterboxed to it. */
  imgsz: [number, number];
  /** Class names (background first); default from the source. */
  classNames?: string[];
  /** Which split this is, for messages. */
  split?: string;
}

/** A source's images with their masks (read on demand, at the image's size), and the class names a COCO file gives. */
export function maskPairs(src: SegmentationSource): {
  pairs: { image: string; mask: () => ClassMask; maskName: string }[];
  names?: string[];
  description: string;
} {
  if ('masks' in src) {
    const pairs = pairMasks(src.images, src.masks).map((p) => ({ image: p.image, mask: () => readClassMask(p.mask), maskName: p.mask }));
    return { pairs, description: `${src.images} + ${src.masks}` };
  }
  const { coco, names, maskOf } = cocoMasks(src.data);
  const pairs = coco.images!.map((im) => ({
    image: path.join(src.images, String(im.file_name)),
    mask: () => maskOf(im.id),
    maskName: `${src.data} (image ${im.id})`,
  }));
  return { pairs, names, description: src.data };
}

/**
 * Loads a segmentation set: image + mask pairs (folders matched by file name, or a COCO file's polygons /
 * RLEs rasterised through coco-ts-api), every image letterboxed to `imgsz` and its mask with it. Bad input —
 * a mask whose size differs from its image, a mask value that is not a class, an image without a mask, a
 * polygon under 3 points — fails naming the file and the fix, before anything is written.
 *
 * @example
 * const train = await loadSegmentationData({ images: 'shapes/images', masks: 'shapes/masks' }, { imgsz: [160, 160] });
 */
export async function loadSegmentationData(src: SegmentationSource, options: LoadOptions): Promise<SegmentationSet> {
  const [h, w] = options.imgsz;
  const found = maskPairs(src);
  const { pairs, description } = found;
  let names = options.classNames ?? found.names;
  const samples: Sample[] = new Array(pairs.length);
  const transforms: LetterboxTransform[] = new Array(pairs.length);
  const rawMasks: ClassMask[] = new Array(pairs.length);
  let next = 0;
  const worker = async () => {
    while (next < pairs.length) {
      const i = next++;
      const p = pairs[i];
      if (!fs.existsSync(p.image)) throw new ConfigError(`image '${p.image}' does not exist; check --images or the file name`);
      const image = await decodeImage(p.image);
      const mask = p.mask();
      if (mask.width !== image.width || mask.height !== image.height)
        throw new ConfigError(
          `mask ${p.maskName} is ${mask.width}×${mask.height} but its image '${p.image}' is ${image.width}×${image.height}; masks must match their images`,
        );
      const { bytes, transform } = await fitImageToBytes(image, { shape: [h, w, 3], fit: 'letterbox' }, `'${p.image}'`);
      rawMasks[i] = mask;
      samples[i] = { image: bytes, shape: [h, w, 3], mask: letterboxMask(mask, transform, [h, w]), source: p.image };
      transforms[i] = transform;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  if (!names) {
    let max = 0;
    for (const m of rawMasks) for (const v of m.data) if (v !== IGNORE && v > max) max = v;
    names = folderClassNames((src as { masks: string }).masks, max);
  }
  const k = names.length;
  rawMasks.forEach((m, i) => {
    const bad = m.data.findIndex((v) => v >= k && v !== IGNORE);
    if (bad >= 0)
      throw new ConfigError(
        `mask ${pairs[i].maskName} has value ${m.data[bad]} at pixel (${bad % m.width}, ${Math.floor(bad / m.width)}), but the classes are 0..${k - 1} (${names!.join(', ')}); fix the mask or pass --classes with one name per value (${IGNORE} = ignore)`,
      );
  });
  return {
    length: samples.length,
    classNames: names,
    get: (i) => samples[i],
    files: pairs.map((p) => p.image),
    transforms,
    description: `${description} (${samples.length} images${options.split ? `, ${options.split}` : ''})`,
    truth: (i) => pairs[i].mask(),
  };
}

/** Images `indices` of a set as a set of their own. */
export function subsetSegmentation(set: SegmentationSet, indices: number[], description: string): SegmentationSet {
  return {
    length: indices.length,
    classNames: set.classNames,
    get: (i) => set.get(indices[i]),
    files: indices.map((i) => set.files[i]),
    transforms: indices.map((i) => set.transforms[i]),
    description,
    truth: (i) => set.truth(indices[i]),
  };
}
