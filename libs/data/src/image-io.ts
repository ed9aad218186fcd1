import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ConfigError } from '@cv/engine';
import { type DecodedImage, fitImageBytes } from '@cv/engine/core';

/** File names sharp decodes. */
export const IMAGE_EXT = /\.(png|jpe?g|webp|gif|tiff?|avif|bmp)$/i;

/**
 * The images a `--images` argument names: the image files of a folder (sorted by name) or one image file.
 * A missing path or an empty folder fails with one line naming `flag`.
 */
export function listImages(source: string, flag = '--images'): string[] {
  if (!fs.existsSync(source)) throw new ConfigError(`${flag} '${source}' does not exist`);
  const files = fs.statSync(source).isDirectory()
    ? fs
        .readdirSync(source)
        .filter((f) => IMAGE_EXT.test(f))
        .sort()
        .map((f) => path.join(source, f))
    : [source];
  if (!files.length) throw new ConfigError(`${flag} '${source}' holds no images (.png, .jpg, ...)`);
  return files;
}

/** An image that cannot be used; the message names the file and the fix. */
export class ImageError extends Error {
  override name = 'ImageError';
}

/**
 * Decodes an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF...) with sharp at its own size: EXIF
 * orientation applied, alpha dropped, grey or sRGB bytes (HWC). Resizing is the engine's `fitImage`, the
 * same for training data, `predict`, the server and the browser.
 *
 * @example
 * const image = await decodeImage('photo.jpg'); // { data, width, height, channels: 3 }
 */
export async function decodeImage(file: string): Promise<DecodedImage> {
  if (!fs.existsSync(file)) throw new ImageError(`image '${file}' does not exist; check the path`);
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new ImageError(`'${file}' is not a file; pass image files`);
  if (stat.size === 0) throw new ImageError(`image '${file}' is 0 bytes; replace or remove it`);
  return decodeImageBytes(file, `'${file}'`, 'replace or remove it');
}

/** Limits on an image decoded from bytes that came from elsewhere (an upload). */
export interface DecodeLimits {
  /** Largest width × height; a larger image is refused from its header, before its pixels are decoded. */
  maxPixels?: number;
  /**
   * Decode at most this many pixels on the longer side (shrink-on-load: a larger image comes back scaled down,
   * aspect kept; the caller maps its results back to the original size).
   */
  maxSide?: number;
}

/**
 * Decodes an image held in memory (or a file path) as `decodeImage` does: EXIF orientation, alpha dropped,
 * grey or sRGB HWC bytes. `maxPixels` refuses decompression bombs from the header (sharp's pixel limit).
 * The one decoding of the CLI's `predict` and the demo server.
 */
export async function decodeImageBytes(
  input: string | Uint8Array,
  where = 'image',
  fix = 'send a PNG, JPEG or WebP image',
  limits: DecodeLimits = {},
): Promise<DecodedImage> {
  const source = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  try {
    const image = sharp(source, { failOn: 'error', limitInputPixels: limits.maxPixels ?? 0x3fff * 0x3fff })
      .rotate()
      .removeAlpha();
    const meta = await image.metadata();
    const grey = meta.channels !== undefined && meta.channels <= 2 && meta.space !== 'srgb';
    const [w, h] = (meta.orientation ?? 1) >= 5 ? [meta.height ?? 0, meta.width ?? 0] : [meta.width ?? 0, meta.height ?? 0];
    if (limits.maxSide && Math.max(w, h) > limits.maxSide) image.resize({ width: limits.maxSide, height: limits.maxSide, fit: 'inside' });
    const { data, info } = await (grey ? image.grayscale() : image.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: info.channels as 1 | 3 };
  } catch (e) {
    throw new ImageError(`${where} is not a readable image (${(e as Error).message.split('\n')[0]}); ${fix}`);
  }
}

/**
 * Decodes an image file and fits it to `size` × `size` (stretched; bilinear, as every model input) with
 * 1 (BT.601 luma) or 3 (RGB) channels. Returns HWC uint8 pixels.
 *
 * @example
 * const pixels = await readImage('datasets/shapes/train/circle/0.png', { size: 28, channels: 1 });
 */
export async function readImage(file: string, { size, channels }: { size: [number, number] | number; channels: 1 | 3 }): Promise<Uint8Array> {
  const [h, w] = Array.isArray(size) ? size : [size, size];
  return fitImageBytes(await decodeImage(file), { shape: [h, w, channels] }, `'${file}'`);
}

/** Writes HWC uint8 pixels as a PNG. */
export async function writePng(file: string, pixels: Uint8Array, [h, w, c]: [number, number, number]): Promise<void> {
  await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } })
    .png()
    .toFile(file);
}
