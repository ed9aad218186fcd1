import fs from 'node:fs';
import { loadFashionMnist, loadGlyphs, loadMnist } from './builtin';
import { type ImageFolderOptions, loadImageFolder } from './image-folder';
import { ImageError } from './image-io';
import type { ClassificationDataset } from './types';

/**
 * A classification dataset by name: `fashion-mnist`, `mnist`, `glyphs` (procedural pen strokes), or a path to an image folder (resized to
 * `size`, with `channels`).
 *
 * @example
 * const ds = await loadClassificationDataset('mnist');
 */
export async function loadClassificationDataset(name: string, folder: ImageFolderOptions = { size: 28, channels: 1 }): Promise<ClassificationDataset> {
  if (name === 'fashion-mnist') return loadFashionMnist();
  if (name === 'mnist') return loadMnist();
  if (name === 'glyphs') return loadGlyphs();
  if (fs.existsSync(name)) return loadImageFolder(name, folder);
  throw new ImageError(`dataset '${name}' is neither a built-in (fashion-mnist, mnist, glyphs) nor an existing folder; check the name or path`);
}
