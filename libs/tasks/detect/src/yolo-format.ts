import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import YAML from 'yaml';
import { IMAGE_EXT } from '@cv/data';
import { ConfigError, writeFileAtomic } from '@cv/engine';

/** Ultralytics-style datasets: a YAML (`path`, `train`, `val`, `names`) over images/ and labels/*.txt. */

export interface CocoDetectionFile {
  images: { id: number; file_name: string; width: number; height: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: number[]; area: number; iscrowd: 0 }[];
  categories: { id: number; name: string }[];
}

/** A dataset YAML's class names (list or {index: name} map) and the image folder of a split. */
export function readDatasetYaml(file: string): { names: string[]; dirs: Record<string, string> } {
  if (!fs.existsSync(file)) throw new ConfigError(`dataset YAML '${file}' does not exist; pass --data <data.yaml> or a COCO JSON`);
  let doc: Record<string, unknown>;
  try {
    doc = YAML.parse(fs.readFileSync(file, 'utf8')) ?? {};
  } catch (e) {
    throw new ConfigError(`'${file}' is not valid YAML (${(e as Error).message.split('\n')[0]}); fix its syntax`);
  }
  const raw = doc.names;
  if (!raw || typeof raw !== 'object')
    throw new ConfigError(`'${file}' has no 'names'; list the class names (names: [circle, square]) or map them (names: {0: circle})`);
  const names = Array.isArray(raw)
    ? raw.map(String)
    : Object.entries(raw as Record<string, unknown>)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([, v]) => String(v));
  const base = path.resolve(path.dirname(file), String(doc.path ?? '.'));
  const dirs: Record<string, string> = {};
  for (const split of ['train', 'val', 'test']) if (typeof doc[split] === 'string') dirs[split] = path.resolve(base, doc[split] as string);
  return { names, dirs };
}

/** Ultralytics' rule: the label file of `.../images/x.png` is `.../labels/x.txt`. */
export function labelPathOf(image: string): string {
  const parts = image.split(path.sep);
  const i = parts.lastIndexOf('images');
  if (i >= 0) parts[i] = 'labels';
  return parts.join(path.sep).replace(/\.[^./]+$/, '.txt');
}

/**
 * One split of a YOLO-format dataset as a COCO detection file (category ids 1..K in `names` order). Each
 * label line is `class cx cy w h`, normalised to 0..1; images without a label file are negatives. Bad lines
 * fail naming the file and line.
 */
export async function yoloToCoco(yamlFile: string, split = 'train'): Promise<{ coco: CocoDetectionFile; imageDir: string }> {
  const { names, dirs } = readDatasetYaml(yamlFile);
  const dir = dirs[split];
  if (!dir) throw new ConfigError(`'${yamlFile}' has no '${split}' split; add ${split}: <images folder>`);
  if (!fs.existsSync(dir)) throw new ConfigError(`the '${split}' images folder '${dir}' of ${yamlFile} does not exist`);
  const files = fs
    .readdirSync(dir)
    .filter((f) => IMAGE_EXT.test(f))
    .sort();
  const coco: CocoDetectionFile = { images: [], annotations: [], categories: names.map((name, i) => ({ id: i + 1, name })) };
  for (const [i, f] of files.entries()) {
    const image = path.join(dir, f);
    const meta = await sharp(image).metadata();
    const [w, h] = [meta.width ?? 0, meta.height ?? 0];
    coco.images.push({ id: i + 1, file_name: f, width: w, height: h });
    const label = labelPathOf(image);
    if (!fs.existsSync(label)) continue;
    fs.readFileSync(label, 'utf8')
      .split('\n')
      .forEach((line, n) => {
        if (!line.trim()) return;
        const fields = line.trim().split(/\s+/).map(Number);
        const where = `${label}:${n + 1}`;
        if (fields.length !== 5 || fields.some((v) => !Number.isFinite(v)))
          throw new ConfigError(`${where}: expected 'class cx cy w h' (5 numbers), got '${line.trim()}'`);
        const [c, cx, cy, bw, bh] = fields;
        if (!(Number.isInteger(c) && c >= 0 && c < names.length))
          throw new ConfigError(`${where}: class ${c} is not one of 0..${names.length - 1} (${names.join(', ')})`);
        if ([cx, cy, bw, bh].some((v) => v < 0 || v > 1)) throw new ConfigError(`${where}: coordinates must be normalised to 0..1, got '${line.trim()}'`);
        const bbox = [(cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h];
        coco.annotations.push({ id: coco.annotations.length + 1, image_id: i + 1, category_id: c + 1, bbox, area: bbox[2] * bbox[3], iscrowd: 0 });
      });
  }
  return { coco, imageDir: dir };
}

/**
 * A COCO detection file as a YOLO-format dataset: `<out>/images/<split>/` (copies), `<out>/labels/<split>/*.txt`
 * and `<out>/data.yaml`. Crowd annotations are left out (the format has no ignore regions).
 */
export function cocoToYolo(cocoFile: string, imageDir: string, out: string, split = 'train'): { images: number; labels: number } {
  const coco = JSON.parse(fs.readFileSync(cocoFile, 'utf8')) as CocoDetectionFile & { annotations: { iscrowd?: number }[] };
  const cats = [...coco.categories].sort((a, b) => a.id - b.id);
  const index = new Map(cats.map((c, i) => [c.id, i]));
  const imgOut = path.join(out, 'images', split);
  const lblOut = path.join(out, 'labels', split);
  fs.mkdirSync(imgOut, { recursive: true });
  fs.mkdirSync(lblOut, { recursive: true });
  let labels = 0;
  for (const im of coco.images) {
    fs.copyFileSync(path.join(imageDir, im.file_name), path.join(imgOut, im.file_name));
    const lines = coco.annotations
      .filter((a) => a.image_id === im.id && !a.iscrowd)
      .map((a) => {
        const [x, y, w, h] = a.bbox;
        labels++;
        return [index.get(a.category_id), (x + w / 2) / im.width, (y + h / 2) / im.height, w / im.width, h / im.height]
          .map((v, k) => (k === 0 ? String(v) : (v as number).toFixed(6)))
          .join(' ');
      });
    writeFileAtomic(path.join(lblOut, im.file_name.replace(/\.[^.]+$/, '.txt')), lines.join('\n') + (lines.length ? '\n' : ''));
  }
  writeFileAtomic(
    path.join(out, 'data.yaml'),
    YAML.stringify({ path: '.', [split]: `images/${split}`, names: Object.fromEntries(cats.map((c, i) => [i, c.name])) }),
  );
  return { images: coco.images.length, labels };
}
