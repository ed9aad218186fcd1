/**
 * Drawing answers onto a 2-D canvas: the detect page's boxes and the segment page's masks. The same functions
 * draw the webcam's live frames and the annotated PNGs the pages download, so what is saved is what is shown.
 */
import type { DetectionBox } from '../shared/results';

export const BOX_COLOURS = ['#e11d48', '#0369a1', '#b45309', '#15803d', '#7c3aed', '#be185d'];

/** Boxes (COCO xywh, in the canvas's pixels) with an optional `label score` tag above each. */
export function drawDetections(
  ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
  detections: DetectionBox[],
  colourOf: (label: string) => string,
  labels = true,
): void {
  const w = ctx.canvas.width;
  const line = Math.max(1, w / 200);
  const font = Math.max(9, Math.round(w / 30));
  ctx.lineWidth = line;
  ctx.font = `${font}px sans-serif`;
  ctx.textBaseline = 'bottom';
  for (const d of detections) {
    const [x, y, bw, bh] = d.box;
    ctx.strokeStyle = colourOf(d.label);
    ctx.strokeRect(x, y, bw, bh);
    if (!labels) continue;
    const text = `${d.label} ${d.score.toFixed(2)}`;
    const tw = ctx.measureText(text).width + 4;
    const ty = y - font - 2 >= 0 ? y : y + font + 2;
    ctx.fillStyle = colourOf(d.label);
    ctx.fillRect(x - line / 2, ty - font - 2, tw, font + 2);
    ctx.fillStyle = 'white';
    ctx.fillText(text, x + 2, ty);
  }
}

/**
 * A class mask as colours: `alpha` 0..1 over the class colours (background left clear when `clearBackground`).
 * At `alpha` 1 every pixel has exactly its legend colour.
 */
export function maskImage(mask: Uint8Array, width: number, height: number, colours: [number, number, number][], alpha: number, clearBackground: boolean) {
  const img = new ImageData(width, height);
  const a = Math.round(alpha * 255);
  for (let i = 0; i < mask.length; i++) {
    const k = mask[i];
    const [r, g, b] = colours[k] ?? [255, 255, 255];
    const o = i * 4;
    img.data[o] = r;
    img.data[o + 1] = g;
    img.data[o + 2] = b;
    img.data[o + 3] = k === 0 && clearBackground ? 0 : a;
  }
  return img;
}

/** The mask as a class-index PNG (grey: every channel holds the class index; `segment:val` reads it as a truth mask). */
export async function indexMaskPng(mask: Uint8Array, width: number, height: number): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  const img = new ImageData(width, height);
  for (let i = 0; i < mask.length; i++) img.data.set([mask[i], mask[i], mask[i], 255], i * 4);
  ctx.putImageData(img, 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

/** An image file drawn at its own size with something on top, as a PNG. */
export async function annotatedPng(image: Blob, paint: (ctx: OffscreenCanvasRenderingContext2D) => void): Promise<Blob> {
  const bitmap = await createImageBitmap(image, { imageOrientation: 'from-image' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  paint(ctx);
  return canvas.convertToBlob({ type: 'image/png' });
}
