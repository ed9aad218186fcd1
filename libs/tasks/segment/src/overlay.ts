import sharp from 'sharp';
import type { DecodedImage } from '@cv/engine';
import { colourOf } from './predictor';

/** A class-index mask as an 8-bit grey PNG (pixel = class), the format `segment:predict` writes and reads back. */
export async function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Buffer.from(mask.buffer, mask.byteOffset, mask.byteLength), { raw: { width, height, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** The image's RGB bytes (grey expanded). */
function rgbOf(img: DecodedImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let k = 0; k < 3; k++) out[i * 3 + k] = img.data[i * img.channels + (img.channels >= 3 ? k : 0)];
  return out;
}

/**
 * The image with its mask blended over it (`alpha` on non-background pixels) and, with `legend`, a strip
 * below naming each class present with its colour and share of the pixels.
 */
export async function overlayPng(
  img: DecodedImage,
  mask: Uint8Array,
  classNames: string[],
  { alpha = 0.5, legend = true, colours }: { alpha?: number; legend?: boolean; colours?: [number, number, number][] } = {},
): Promise<Buffer> {
  const { width, height } = img;
  const rgb = rgbOf(img);
  const counts = new Array(classNames.length).fill(0);
  for (let i = 0; i < width * height; i++) {
    const c = mask[i];
    if (c < counts.length) counts[c]++;
    if (c === 0 || c >= classNames.length) continue;
    const col = colours?.[c] ?? colourOf(c);
    for (let k = 0; k < 3; k++) rgb[i * 3 + k] = Math.round((1 - alpha) * rgb[i * 3 + k] + alpha * col[k]);
  }
  const base = sharp(Buffer.from(rgb), { raw: { width, height, channels: 3 } });
  if (!legend) return base.png().toBuffer();
  const present = counts.map((n, c) => ({ c, n })).filter((e) => e.n > 0);
  const font = 11;
  const rowH = font + 5;
  const perRow = Math.max(1, Math.floor(width / 110));
  const legendH = Math.ceil(present.length / perRow) * rowH + 4;
  const esc = (t: string) => t.replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const items = present.map((e, i) => {
    const x = (i % perRow) * 110 + 4;
    const y = Math.floor(i / perRow) * rowH + 2;
    const [r, g, b] = colours?.[e.c] ?? colourOf(e.c);
    return (
      `<rect x="${x}" y="${y}" width="${font}" height="${font}" fill="rgb(${r},${g},${b})" stroke="#fff"/>` +
      `<text x="${x + font + 3}" y="${y + font - 1}" font-family="sans-serif" font-size="${font}" fill="#fff">${esc(classNames[e.c])} ${((100 * e.n) / (width * height)).toFixed(1)}%</text>`
    );
  });
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${legendH}"><rect width="100%" height="100%" fill="#202020"/>${items.join('')}</svg>`,
  );
  return sharp({ create: { width, height: height + legendH, channels: 3, background: '#202020' } })
    .composite([
      { input: await base.png().toBuffer(), left: 0, top: 0 },
      { input: svg, left: 0, top: height },
    ])
    .png()
    .toBuffer();
}
