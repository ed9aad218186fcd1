import type { Sharp } from 'sharp';

const COLORS = ['#ff3838', '#2c99a8', '#ffb21d', '#48f90a', '#cfd231', '#ff37c7', '#3d8bff', '#8438ff'];

/** A box to draw: corners in the image's pixels, a label and (for detections) a score. */
export interface DrawnBox {
  box: [number, number, number, number] | number[];
  classIndex: number;
  label: string;
  score?: number;
}

/** Draws boxes with their labels (and scores) on an image → PNG (an SVG overlay composited by sharp). */
export async function drawBoxes(image: Sharp, boxes: DrawnBox[], out: string): Promise<void> {
  const meta = await image.metadata();
  const [w, h] = [meta.width ?? 1, meta.height ?? 1];
  const esc = (t: string) => t.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const fontSize = Math.max(8, Math.round(Math.min(w, h) / 20));
  const shapes = boxes.map((d) => {
    const c = COLORS[d.classIndex % COLORS.length];
    const [x1, y1, x2, y2] = d.box;
    const text = `${esc(d.label)}${d.score !== undefined ? ` ${d.score.toFixed(2)}` : ''}`;
    return (
      `<rect x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}" fill="none" stroke="${c}" stroke-width="${Math.max(1, fontSize / 8)}"/>` +
      `<text x="${x1}" y="${Math.max(fontSize, y1 - 2)}" font-family="sans-serif" font-size="${fontSize}" fill="${c}">${text}</text>`
    );
  });
  const svg = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${shapes.join('')}</svg>`);
  await image
    .composite([{ input: svg }])
    .png()
    .toFile(out);
}
