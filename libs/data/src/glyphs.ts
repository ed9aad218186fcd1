import { Rng, deriveSeed } from '@cv/engine';
import type { ClassificationDataset, ClassificationSet } from './types';

/**
 * Procedural pen-stroke glyphs: a pretraining set made on the spot from a seed, for backbones that will
 * be fine-tuned on handwriting-like images (the suite cannot download EMNIST or ImageNet).
 *
 * Each class is a random prototype of one to three smooth strokes (cubic Bézier curves; later strokes
 * usually start on an earlier one, as pen strokes do). Each image redraws its class's prototype with
 * jittered control points, a random rotation, shear, aspect and stroke width, then is normalized the way
 * MNIST was: the glyph scaled so its larger side spans 20 px, its centre of mass put at the centre of a
 * 28×28 image, white anti-aliased strokes on black. The prototypes are random curves, not letters or
 * digits; any resemblance to a digit is chance.
 */
export interface GlyphOptions {
  /** Number of prototype glyphs (classes). */
  classes: number;
  trainPerClass: number;
  testPerClass: number;
  seed: number;
}

export const GLYPH_DEFAULTS: GlyphOptions = { classes: 100, trainPerClass: 500, testPerClass: 100, seed: 0 };

type Point = [number, number];
/** A prototype: strokes of 4 control points each, in the unit square. */
type Prototype = Point[][];

const SIZE = 28;
const BOX = 20;
const SAMPLES_PER_STROKE = 24;

function bezier(p: Point[], t: number): Point {
  const u = 1 - t;
  const a = u * u * u;
  const b = 3 * u * u * t;
  const c = 3 * u * t * t;
  const d = t * t * t;
  return [a * p[0][0] + b * p[1][0] + c * p[2][0] + d * p[3][0], a * p[0][1] + b * p[1][1] + c * p[2][1] + d * p[3][1]];
}

function makePrototype(rng: Rng): Prototype {
  const r = rng.next();
  const strokes = r < 0.35 ? 1 : r < 0.8 ? 2 : 3;
  const proto: Prototype = [];
  const rand = (): Point => [rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)];
  for (let s = 0; s < strokes; s++) {
    // Later strokes mostly start on an earlier stroke, so glyphs are connected like pen writing.
    const start = s > 0 && rng.next() < 0.75 ? bezier(proto[rng.int(s)], rng.uniform(0, 1)) : rand();
    proto.push([start, rand(), rand(), rand()]);
  }
  return proto;
}

/** Draws one instance of a prototype into `out` (784 bytes). */
function drawInstance(proto: Prototype, rng: Rng, out: Uint8Array): void {
  const angle = (rng.uniform(-15, 15) * Math.PI) / 180;
  const shear = rng.uniform(-0.25, 0.25);
  const aspect = Math.exp(rng.uniform(-0.15, 0.15));
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const jitter = 0.05;
  // Jittered, transformed polyline of every stroke.
  const lines: Point[][] = proto.map((stroke) => {
    const ctrl = stroke.map(([x, y]): Point => {
      const jx = x + jitter * rng.normal() - 0.5;
      const jy = y + jitter * rng.normal() - 0.5;
      const sx = (jx + shear * jy) * aspect;
      const sy = jy / aspect;
      return [cos * sx - sin * sy, sin * sx + cos * sy];
    });
    return Array.from({ length: SAMPLES_PER_STROKE + 1 }, (_, i) => bezier(ctrl, i / SAMPLES_PER_STROKE));
  });
  // Scale so the larger side spans BOX pixels; centre of mass (by stroke length) at the image centre.
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const line of lines)
    for (const [x, y] of line) {
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
  const scale = BOX / Math.max(maxX - minX, maxY - minY, 1e-6);
  let mass = 0,
    cx = 0,
    cy = 0;
  for (const line of lines) {
    for (let i = 1; i < line.length; i++) {
      const len = Math.hypot(line[i][0] - line[i - 1][0], line[i][1] - line[i - 1][1]);
      mass += len;
      cx += (len * (line[i][0] + line[i - 1][0])) / 2;
      cy += (len * (line[i][1] + line[i - 1][1])) / 2;
    }
  }
  cx /= mass || 1;
  cy /= mass || 1;
  const toPx = ([x, y]: Point): Point => [SIZE / 2 + (x - cx) * scale, SIZE / 2 + (y - cy) * scale];
  const radius = rng.uniform(0.7, 1.5);
  const intensity = new Float32Array(SIZE * SIZE);
  for (const line of lines) {
    for (let i = 1; i < line.length; i++) {
      const [ax, ay] = toPx(line[i - 1]);
      const [bx, by] = toPx(line[i]);
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - radius - 1));
      const x1 = Math.min(SIZE - 1, Math.ceil(Math.max(ax, bx) + radius + 1));
      const y0 = Math.max(0, Math.floor(Math.min(ay, by) - radius - 1));
      const y1 = Math.min(SIZE - 1, Math.ceil(Math.max(ay, by) + radius + 1));
      for (let py = y0; py <= y1; py++) {
        for (let px = x0; px <= x1; px++) {
          const qx = px + 0.5 - ax;
          const qy = py + 0.5 - ay;
          const t = len2 > 0 ? Math.min(1, Math.max(0, (qx * dx + qy * dy) / len2)) : 0;
          const d = Math.hypot(qx - t * dx, qy - t * dy);
          // Anti-aliased pen: full inside the radius, a one-pixel ramp at the edge.
          const v = Math.min(1, Math.max(0, radius + 0.5 - d));
          const k = py * SIZE + px;
          if (v > intensity[k]) intensity[k] = v;
        }
      }
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = Math.round(255 * intensity[k]);
}

/**
 * The glyph dataset: `classes` prototypes, `trainPerClass` + `testPerClass` images each (classes
 * interleaved round-robin, like the other built-ins). Deterministic in `seed`: the same options always
 * give the same bytes; test images are separate draws, never copies of training images.
 *
 * @example
 * const { train, test } = makeGlyphs({ ...GLYPH_DEFAULTS, classes: 10, trainPerClass: 20, testPerClass: 5 });
 */
export function makeGlyphs(options: GlyphOptions = GLYPH_DEFAULTS): ClassificationDataset {
  const { classes, trainPerClass, testPerClass, seed } = options;
  if (classes < 2 || classes > 256) throw new RangeError(`glyphs: classes must be 2..256, got ${classes}`);
  const protoRng = new Rng(deriveSeed(seed, 'glyph-prototypes'));
  const protos = Array.from({ length: classes }, () => makePrototype(protoRng));
  const classNames = protos.map((_, c) => `glyph${String(c).padStart(3, '0')}`);
  const build = (perClass: number, split: string): ClassificationSet => {
    const n = perClass * classes;
    const images = new Uint8Array(n * SIZE * SIZE);
    const labels = new Int32Array(n);
    const rngs = protos.map((_, c) => new Rng(deriveSeed(seed, 'glyph-instances', split, c)));
    for (let i = 0; i < n; i++) {
      const c = i % classes;
      labels[i] = c;
      drawInstance(protos[c], rngs[c], images.subarray(i * SIZE * SIZE, (i + 1) * SIZE * SIZE));
    }
    return { images, labels, shape: [SIZE, SIZE, 1], classNames };
  };
  return {
    name: 'glyphs',
    train: build(trainPerClass, 'train'),
    test: build(testPerClass, 'test'),
    splitDescription: `procedural pen-stroke glyphs, ${classes} random prototypes (seed ${seed}), ${trainPerClass} train and ${testPerClass} test draws per class`,
  };
}
