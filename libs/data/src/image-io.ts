import fs from 'node:fs';
import sharp from 'sharp';

/** An image that cannot be used; the message names the file and the fix. */
export class ImageError extends Error {
  override name = 'ImageError';
}

/**
 * Decodes an image file (PNG, JPEG, WebP, GIF, TIFF, AVIF...) with sharp and resizes it to
 * `size` × `size` (`fit: fill`), as 1 (luminance) or 3 (RGB) channels. Returns HWC uint8 pixels.
 *
 * @example
 * const pixels = await readImage('datasets/shapes/train/circle/0.png', { size: 28, channels: 1 });
 */
export async function readImage(file: string, { size, channels }: { size: [number, number] | number; channels: 1 | 3 }): Promise<Uint8Array> {
  const [h, w] = Array.isArray(size) ? size : [size, size];
  if (!fs.existsSync(file)) throw new ImageError(`image '${file}' does not exist; check the path`);
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new ImageError(`'${file}' is not a file; pass image files`);
  if (stat.size === 0) throw new ImageError(`image '${file}' is 0 bytes; replace or remove it`);
  try {
    let pipeline = sharp(file, { failOn: 'error' }).rotate().resize(w, h, { fit: 'fill' }).removeAlpha();
    pipeline = channels === 1 ? pipeline.grayscale() : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) throw new Error(`decoded ${info.channels} channels`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (e) {
    throw new ImageError(`'${file}' is not a readable image (${(e as Error).message.split('\n')[0]}); replace or remove it`);
  }
}

/** Writes HWC uint8 pixels as a PNG. */
export async function writePng(file: string, pixels: Uint8Array, [h, w, c]: [number, number, number]): Promise<void> {
  await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: w, height: h, channels: c as 1 | 3 | 4 } })
    .png()
    .toFile(file);
}
