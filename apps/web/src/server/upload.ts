import { decodeImageBytes } from '@cv/data';
import type { DecodedImage } from '@cv/engine/core';
import sharp, { type Metadata } from 'sharp';
import { HttpError } from './errors';

export const MAX_BYTES = 10 * 1024 * 1024;
export const MAX_SIDE = 4096;
export const MAX_PIXELS = MAX_SIDE * MAX_SIDE;
const FORMATS = new Set(['png', 'jpeg', 'webp']);

// Every upload is new: libvips' operation cache (50 MB by default) would only hold memory.
sharp.cache(false);

/** An upload's form: the decoded image and the other fields. */
export interface Upload {
  image: DecodedImage;
  fields: FormData;
  format: string;
}

/**
 * Reads the multipart form of an upload: refuses a body over 10 MB from its Content-Length before reading
 * it, recognises PNG / JPEG / WebP by content (sharp reads the header, not the name), refuses more than
 * 4096 × 4096 pixels from the header (before decoding), then decodes as the CLI does.
 */
export async function readUpload(request: Request): Promise<Upload> {
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > MAX_BYTES + 64 * 1024) throw new HttpError(413, `the upload is ${(length / 1048576).toFixed(1)} MB; images up to 10 MB are accepted`);
  let fields: FormData;
  try {
    fields = await request.formData();
  } catch {
    throw new HttpError(400, "send a multipart form with the image in a field named 'image'");
  }
  const file = fields.get('image');
  if (!(file instanceof Blob)) throw new HttpError(400, "no 'image' field in the form; send the image file as 'image'");
  if (file.size === 0) throw new HttpError(400, 'the image is empty (0 bytes); choose a PNG, JPEG or WebP file');
  if (file.size > MAX_BYTES) throw new HttpError(413, `the image is ${(file.size / 1048576).toFixed(1)} MB; images up to 10 MB are accepted`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw new HttpError(415, 'the file is not a PNG, JPEG or WebP image (its content says otherwise, whatever its name); choose an image file');
  }
  if (!meta.format || !FORMATS.has(meta.format)) throw new HttpError(415, `the file is ${meta.format ?? 'an unknown format'}; PNG, JPEG and WebP are accepted`);
  if ((meta.width ?? 0) * (meta.height ?? 0) > MAX_PIXELS) {
    throw new HttpError(
      413,
      `the image is ${meta.width}×${meta.height} pixels; up to ${MAX_SIDE}×${MAX_SIDE} (${MAX_PIXELS.toLocaleString('en')} pixels) are accepted`,
    );
  }
  const image = await decodeImageBytes(bytes, 'the image', 'choose a PNG, JPEG or WebP file', { maxPixels: MAX_PIXELS });
  return { image, fields, format: meta.format };
}

/** A number field of the form within [lo, hi], or the default. */
export function numberField(fields: FormData | URLSearchParams, name: string, fallback: number, lo: number, hi: number): number {
  const raw = fields.get(name);
  if (raw === null || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < lo || v > hi) throw new HttpError(400, `'${name}' must be a number from ${lo} to ${hi} (got '${String(raw)}')`);
  return v;
}
