import { decodeImageBytes } from '@cv/data';
import type { DecodedImage } from '@cv/engine/core';
import sharp, { type Metadata } from 'sharp';
import { HttpError } from './errors';

export const MAX_BYTES = 10 * 1024 * 1024;
export const MAX_SIDE = 4096;
export const MAX_PIXELS = MAX_SIDE * MAX_SIDE;
/** Uploads are decoded to at most this side (every model input is 160 px or less); answers are mapped back. */
export const DECODE_SIDE = 640;
const FORMATS = new Set(['png', 'jpeg', 'webp']);

// Every upload is new: libvips' operation cache (50 MB by default) would only hold memory.
sharp.cache(false);

/** An upload's form: the decoded image (at most `DECODE_SIDE` a side), its original size, and the other fields. */
export interface Upload {
  image: DecodedImage;
  /** The upload's own size (after EXIF orientation): what answers are given in. */
  width: number;
  height: number;
  fields: FormData;
  format: string;
  /** Milliseconds spent decoding the file's pixels. */
  decodeMs: number;
}

/** The whole request body a form may have: the image and its few fields. */
export const MAX_BODY = MAX_BYTES + 64 * 1024;

/**
 * The request body, read while it streams in and refused with 413 at the first byte past `limit` (a chunked
 * body has no Content-Length to check first): the rest is never read, nothing past the limit is held.
 */
export async function readBody(request: Request, limit = MAX_BODY): Promise<Uint8Array> {
  const tooBig = () => new HttpError(413, `the upload is over ${(limit / 1048576).toFixed(0)} MB; images up to 10 MB are accepted`);
  const length = Number(request.headers.get('content-length') ?? 0);
  if (length > limit) throw tooBig();
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw tooBig();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return body;
}

/**
 * Reads the multipart form of an upload: the body within `MAX_BODY` as it streams in (above), PNG / JPEG / WebP
 * recognised by content (sharp reads the header, not the name), more than 4096 × 4096 pixels refused from the
 * header before anything is decoded (however many the header declares), then decoded as the CLI does; a file
 * that cannot be decoded is named in the suite's words, not libvips'.
 */
export async function readUpload(request: Request): Promise<Upload> {
  const type = request.headers.get('content-type') ?? '';
  if (!/^multipart\/form-data\s*;\s*boundary=/i.test(type)) {
    throw new HttpError(400, "send a multipart form (Content-Type multipart/form-data) with the image in a field named 'image'");
  }
  const body = await readBody(request);
  let fields: FormData;
  try {
    fields = await new Response(body as unknown as BodyInit, { headers: { 'content-type': type } }).formData();
  } catch {
    throw new HttpError(400, "the multipart form could not be read (a truncated or malformed body); send the image in a field named 'image'");
  }
  const file = fields.get('image');
  if (!(file instanceof Blob)) throw new HttpError(400, "no 'image' field in the form; send the image file as 'image'");
  if (file.size === 0) throw new HttpError(400, 'the image is empty (0 bytes); choose a PNG, JPEG or WebP file');
  if (file.size > MAX_BYTES) throw new HttpError(413, `the image is ${(file.size / 1048576).toFixed(1)} MB; images up to 10 MB are accepted`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let meta: Metadata;
  try {
    // The header only, whatever size it declares (sharp's own pixel limit would make a huge one look unreadable).
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
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
  const t0 = performance.now();
  try {
    const image = await decodeImageBytes(bytes, 'the image', 'choose a PNG, JPEG or WebP file', { maxPixels: MAX_PIXELS, maxSide: DECODE_SIDE });
    const [width, height] = (meta.orientation ?? 1) >= 5 ? [meta.height!, meta.width!] : [meta.width!, meta.height!];
    return { image, width, height, fields, format: meta.format, decodeMs: performance.now() - t0 };
  } catch {
    throw new HttpError(
      415,
      `the ${meta.format.toUpperCase()} file is damaged or truncated (its header reads, its pixels do not); choose another PNG, JPEG or WebP file`,
    );
  }
}

/** A decimal number as people write it: no hex, binary, octal, Infinity or blanks. */
const DECIMAL = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** A number field of the form within [lo, hi] (decimal notation only), or the default. */
export function numberField(fields: FormData | URLSearchParams, name: string, fallback: number, lo: number, hi: number): number {
  const raw = fields.get(name);
  if (raw === null || raw === '') return fallback;
  const text = String(raw).trim();
  const v = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v) || v < lo || v > hi) throw new HttpError(400, `'${name}' must be a number from ${lo} to ${hi} (got '${String(raw).slice(0, 40)}')`);
  return v;
}

/** A whole-number field within [lo, hi], or the default: '2.5' is refused, not rounded. */
export function integerField(fields: FormData | URLSearchParams, name: string, fallback: number, lo: number, hi: number): number {
  const raw = fields.get(name);
  if (raw === null || raw === '') return fallback;
  const text = String(raw).trim();
  const v = /^[-+]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < lo || v > hi)
    throw new HttpError(400, `'${name}' must be a whole number from ${lo} to ${hi} (got '${String(raw).slice(0, 40)}')`);
  return v;
}
