import type { UploadTask } from '../shared/tasks';

/** Calls of the site's own API from the page; a refusal throws its one-line `error`. */
export async function postImage<T>(task: UploadTask, image: Blob, fields: Record<string, string | number> = {}): Promise<T> {
  const form = new FormData();
  form.set('image', image, (image as File).name ?? 'image');
  for (const [k, v] of Object.entries(fields)) form.set(k, String(v));
  const res = await fetch(`/api/${task}`, { method: 'POST', body: form });
  return readJson<T>(res);
}

export async function getJson<T>(url: string): Promise<T> {
  return readJson<T>(await fetch(url));
}

async function readJson<T>(res: Response): Promise<T> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new Error(`the server answered ${res.status} without JSON`);
  }
  if (!res.ok) throw new Error((body as { error?: string }).error ?? `the server answered ${res.status}`);
  return body as T;
}

/** Decodes a base64 PNG of class indices (one byte per pixel in its red channel) in the page. */
export async function decodeIndexPng(base64: string): Promise<{ mask: Uint8Array; width: number; height: number }> {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const mask = new Uint8Array(bitmap.width * bitmap.height);
  for (let i = 0; i < mask.length; i++) mask[i] = data[i * 4];
  return { mask, width: bitmap.width, height: bitmap.height };
}
