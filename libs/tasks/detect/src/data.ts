import fs from 'node:fs';
import path from 'node:path';
import { decodeImage, type Sample, type SampleSet } from '@cv/data';
import { ConfigError, fitImageToBytes, type LetterboxTransform } from '@cv/engine';
import { yoloToCoco } from './yolo-format';

/** Box class of a crowd region in a sample: ignored by the loss and the assigner (COCO `iscrowd: 1`). */
export const CROWD_CLASS = -2;

export interface CocoFile {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[]; iscrowd?: number }[];
  categories: { id: number; name: string }[];
}

/** A detection set in memory: letterboxed images and boxes, with what maps them back to the COCO file. */
export interface DetectionSet extends SampleSet {
  /** COCO category id of each class index. */
  categoryIds: number[];
  imageIds: number[];
  transforms: LetterboxTransform[];
  /** The COCO JSON as read (for evaluation with coco-ts-api). */
  coco: CocoFile;
  file: string;
}

function readCoco(file: string): CocoFile {
  if (!fs.existsSync(file))
    throw new ConfigError(`COCO file '${file}' does not exist; pass --data <annotations.json> (e.g. written by npx nx run data:shapes)`);
  let json: CocoFile;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`'${file}' is not valid JSON (${(e as Error).message.split('\n')[0]}); fix the file`);
  }
  for (const key of ['images', 'annotations', 'categories'] as const) {
    if (!Array.isArray(json[key])) throw new ConfigError(`'${file}' has no '${key}' list; a COCO detection file needs images, annotations and categories`);
  }
  if (!json.categories.length) throw new ConfigError(`'${file}' has no categories; add at least one`);
  return json;
}

/**
 * Reads a COCO detection set: every image decoded and letterboxed to `imgsz`, its boxes mapped with it;
 * `iscrowd` annotations become ignored regions; images without annotations are negatives. Bad input
 * (unknown category, a box outside its image or of zero size, a missing image) fails naming the
 * annotation or file and the fix.
 *
 * @example
 * const train = await loadCocoDetection('datasets/shapes/train/annotations.json', 'datasets/shapes/train/images', [160, 160]);
 */
/** The letterbox size, or a function choosing it from the parsed COCO file (its images' sizes): `--imgsz auto`. */
export type ImgszSpec = [number, number] | ((coco: CocoFile) => [number, number]);

export async function loadCocoDetection(file: string, imageDir: string, imgsz: ImgszSpec, categoryIds?: number[]): Promise<DetectionSet> {
  return detectionSetOf(readCoco(file), file, imageDir, imgsz, categoryIds);
}

/** A parsed COCO detection file (from disk or converted from a YOLO dataset) as an in-memory set. */
export async function detectionSetOf(coco: CocoFile, file: string, imageDir: string, size: ImgszSpec, categoryIds?: number[]): Promise<DetectionSet> {
  const imgsz = typeof size === 'function' ? size(coco) : size;
  const cats = categoryIds ?? [...coco.categories].sort((a, b) => a.id - b.id).map((c) => c.id);
  const names = cats.map((id) => coco.categories.find((c) => c.id === id)?.name ?? String(id));
  const classOf = new Map(cats.map((id, i) => [id, i]));
  const imageById = new Map(coco.images.map((im) => [im.id, im]));
  const byImage = new Map<number, CocoFile['annotations']>();
  for (const a of coco.annotations) {
    const im = imageById.get(a.image_id);
    if (!im) throw new ConfigError(`${file}: annotation ${a.id} names image ${a.image_id}, which is not in 'images'; fix or remove the annotation`);
    if (!classOf.has(a.category_id))
      throw new ConfigError(
        `${file}: annotation ${a.id} names category ${a.category_id}, which is not in 'categories' (${cats.join(', ')}); fix the category id`,
      );
    const [x, y, w, h] = a.bbox ?? [];
    if (!(w > 0 && h > 0)) throw new ConfigError(`${file}: annotation ${a.id} has a zero-size box [${a.bbox}]; remove it or give it a width and height`);
    if (!(x >= -1 && y >= -1 && x + w <= im.width + 1 && y + h <= im.height + 1)) {
      throw new ConfigError(`${file}: annotation ${a.id}'s box [${a.bbox}] is outside its ${im.width}×${im.height} image ${im.file_name}; clip or fix it`);
    }
    if (!byImage.has(a.image_id)) byImage.set(a.image_id, []);
    byImage.get(a.image_id)!.push(a);
  }
  const samples: Sample[] = new Array(coco.images.length);
  const transforms: LetterboxTransform[] = new Array(coco.images.length);
  let next = 0;
  const worker = async () => {
    while (next < coco.images.length) {
      const i = next++;
      const im = coco.images[i];
      const src = path.join(imageDir, im.file_name);
      if (!fs.existsSync(src)) throw new ConfigError(`${file}: image ${im.id} '${src}' does not exist; check --images or the file_name`);
      const decoded = await decodeImage(src);
      const { bytes, transform } = await fitImageToBytes(decoded, { shape: [imgsz[0], imgsz[1], 3], fit: 'letterbox' }, `'${src}'`);
      const anns = byImage.get(im.id) ?? [];
      const boxes = new Float32Array(anns.length * 4);
      anns.forEach((a, k) => {
        const [x, y, w, h] = a.bbox;
        boxes.set(
          [
            x * transform.scale + transform.padX,
            y * transform.scale + transform.padY,
            (x + w) * transform.scale + transform.padX,
            (y + h) * transform.scale + transform.padY,
          ],
          k * 4,
        );
      });
      const boxClasses = Int32Array.from(anns, (a) => (a.iscrowd ? CROWD_CLASS : classOf.get(a.category_id)!));
      samples[i] = { image: bytes, shape: [imgsz[0], imgsz[1], 3], boxes, boxClasses, source: src };
      transforms[i] = transform;
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return {
    length: samples.length,
    classNames: names,
    get: (i) => samples[i],
    categoryIds: cats,
    imageIds: coco.images.map((im) => im.id),
    transforms,
    coco,
    file,
  };
}

/** Images `indices` of a set as a set of their own (its COCO file restricted to those images). */
export function subsetDetection(set: DetectionSet, indices: number[]): DetectionSet {
  const ids = new Set(indices.map((i) => set.imageIds[i]));
  const coco = { ...set.coco, images: set.coco.images.filter((im) => ids.has(im.id)), annotations: set.coco.annotations.filter((a) => ids.has(a.image_id)) };
  return {
    length: indices.length,
    classNames: set.classNames,
    get: (i) => set.get(indices[i]),
    categoryIds: set.categoryIds,
    imageIds: indices.map((i) => set.imageIds[i]),
    transforms: indices.map((i) => set.transforms[i]),
    coco,
    file: set.file,
  };
}

/**
 * A detection set from `--data`: a COCO JSON (images in `images` or `<json folder>/images`) or an
 * Ultralytics-style dataset YAML (its `split`).
 */
export async function loadDetectionData(
  data: string,
  images: string | undefined,
  imgsz: ImgszSpec,
  split = 'train',
  categoryIds?: number[],
): Promise<DetectionSet> {
  if (/\.ya?ml$/i.test(data)) {
    const { coco, imageDir } = await yoloToCoco(data, split);
    return detectionSetOf(coco, `${data} (${split})`, imageDir, imgsz, categoryIds);
  }
  return loadCocoDetection(data, images ?? path.join(path.dirname(data), 'images'), imgsz, categoryIds);
}
