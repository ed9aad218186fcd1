import type { Rng } from '@cv/engine';
import { nativeImageOps } from '@cv/engine/core';
import { IGNORE_INDEX } from './samples';
import type { Sample, SampleSet, SampleTransform, TransformSpec } from './sample-types';

export type { SampleTransform, TransformSpec } from './sample-types';

/** Horizontal flip with probability `p`: pixels, mask and box x-coordinates mirrored together. */
export class RandomFlip implements SampleTransform {
  constructor(readonly p = 0.5) {}
  spec(): TransformSpec {
    return { name: 'flip', options: { p: this.p } };
  }

  apply(s: Sample, rng: Rng): Sample {
    if (!(rng.next() < this.p)) return s;
    const [h, w, c] = s.shape;
    const image = new Uint8Array(s.image.length);
    const mask = s.mask ? new Uint8Array(s.mask.length) : undefined;
    const native = nativeImageOps();
    if (native) {
      native.flipX(s.image, image, h, w, c);
      if (mask) native.flipX(s.mask!, mask, h, w, 1);
    } else {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let k = 0; k < c; k++) image[(y * w + x) * c + k] = s.image[(y * w + (w - 1 - x)) * c + k];
        }
      }
      if (mask) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask[y * w + x] = s.mask![y * w + (w - 1 - x)];
    }
    const boxes = s.boxes ? Float32Array.from(s.boxes) : undefined;
    if (boxes) {
      for (let i = 0; i < boxes.length; i += 4) {
        const x1 = boxes[i];
        boxes[i] = w - boxes[i + 2];
        boxes[i + 2] = w - x1;
      }
    }
    return { ...s, image, mask, boxes };
  }
}

export interface AffineRange {
  /** Max rotation in degrees (±). */
  degrees?: number;
  /** Max relative scale change (±). */
  scale?: number;
  /** Max translation, fraction of the size (±). */
  translate?: number;
  /** Boxes whose transformed area keeps less than this fraction, or narrower than `minSize` px, are dropped (Ultralytics' candidate rule). */
  minAreaRatio?: number;
  minSize?: number;
}

/**
 * Random rotation, scale and translation about the centre: the image resampled bilinearly (grey 114
 * outside), the mask by nearest neighbour (ignore outside), each box replaced by the bounding box of its
 * transformed corners, clipped; boxes that all but leave the image are dropped with their classes.
 */
export class RandomAffine implements SampleTransform {
  constructor(readonly range: AffineRange) {}
  spec(): TransformSpec {
    return { name: 'affine', options: { ...this.range } };
  }

  apply(s: Sample, rng: Rng): Sample {
    const [h, w, c] = s.shape;
    const { degrees = 0, scale = 0, translate = 0, minAreaRatio = 0.1, minSize = 2 } = this.range;
    const angle = (degrees * Math.PI * rng.uniform(-1, 1)) / 180;
    const k = 1 + scale * rng.uniform(-1, 1);
    const tx = translate * w * rng.uniform(-1, 1);
    const ty = translate * h * rng.uniform(-1, 1);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const cx = w / 2;
    const cy = h / 2;
    // Forward map (pixel-centre coordinates): p' = R·k·(p − c) + c + t; the inverse samples the source.
    const forward = (x: number, y: number): [number, number] => [
      k * (cos * (x - cx) - sin * (y - cy)) + cx + tx,
      k * (sin * (x - cx) + cos * (y - cy)) + cy + ty,
    ];
    const identity = angle === 0 && k === 1 && tx === 0 && ty === 0;
    const image = identity ? s.image : new Uint8Array(s.image.length);
    const mask = s.mask && !identity ? new Uint8Array(s.mask.length) : s.mask;
    const native = identity ? null : nativeImageOps();
    if (native) {
      // the same inverse map as the loop below, in the same double arithmetic (native/image.cc)
      native.warpAffine(
        s.image,
        image,
        s.mask ?? null,
        mask ?? null,
        Float64Array.of(h, w, c, cos / k, sin / k, -sin / k, cos / k, cx, cy, tx, ty, 114, IGNORE_INDEX),
      );
    } else if (!identity) {
      const src = s.image;
      // Inverse map of pixel centres, row by row: source = M·(x + 0.5, y + 0.5) + o.
      const m00 = cos / k,
        m01 = sin / k,
        m10 = -sin / k,
        m11 = cos / k;
      const srcMask = s.mask;
      // Rounding of non-negative values: (v + 0.5) | 0 equals Math.round(v) there, and is cheaper.
      for (let y = 0; y < h; y++) {
        const v = y + 0.5 - cy - ty;
        for (let x = 0; x < w; x++) {
          const u = x + 0.5 - cx - tx;
          const sx = m00 * u + m01 * v + cx;
          const sy = m10 * u + m11 * v + cy;
          const fx = sx - 0.5;
          const fy = sy - 0.5;
          const x0 = Math.floor(fx);
          const y0 = Math.floor(fy);
          const ax = fx - x0;
          const ay = fy - y0;
          const o = (y * w + x) * c;
          const p00 = (y0 * w + x0) * c;
          const p10 = p00 + w * c;
          const w00 = (1 - ax) * (1 - ay),
            w01 = ax * (1 - ay),
            w10 = (1 - ax) * ay,
            w11 = ax * ay;
          if (x0 >= 0 && x0 + 1 < w && y0 >= 0 && y0 + 1 < h) {
            // All four neighbours inside (most pixels).
            for (let ch = 0; ch < c; ch++) {
              image[o + ch] = (w00 * src[p00 + ch] + w01 * src[p00 + c + ch] + w10 * src[p10 + ch] + w11 * src[p10 + c + ch] + 0.5) | 0;
            }
          } else {
            const in00 = x0 >= 0 && x0 < w && y0 >= 0 && y0 < h;
            const in01 = x0 + 1 >= 0 && x0 + 1 < w && y0 >= 0 && y0 < h;
            const in10 = x0 >= 0 && x0 < w && y0 + 1 >= 0 && y0 + 1 < h;
            const in11 = x0 + 1 >= 0 && x0 + 1 < w && y0 + 1 >= 0 && y0 + 1 < h;
            for (let ch = 0; ch < c; ch++) {
              const v00 = in00 ? src[p00 + ch] : 114;
              const v01 = in01 ? src[p00 + c + ch] : 114;
              const v10 = in10 ? src[p10 + ch] : 114;
              const v11 = in11 ? src[p10 + c + ch] : 114;
              image[o + ch] = (w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11 + 0.5) | 0;
            }
          }
          if (mask) {
            const nx = Math.floor(sx);
            const ny = Math.floor(sy);
            mask[y * w + x] = nx >= 0 && nx < w && ny >= 0 && ny < h ? srcMask![ny * w + nx] : IGNORE_INDEX;
          }
        }
      }
    }
    let boxes = s.boxes;
    let boxClasses = s.boxClasses;
    if (s.boxes) {
      const kept: number[] = [];
      const keptClasses: number[] = [];
      for (let i = 0; i < s.boxes.length; i += 4) {
        const [x1, y1, x2, y2] = s.boxes.subarray(i, i + 4);
        const corners = [forward(x1, y1), forward(x2, y1), forward(x1, y2), forward(x2, y2)];
        const nx1 = Math.max(0, Math.min(...corners.map((p) => p[0])));
        const ny1 = Math.max(0, Math.min(...corners.map((p) => p[1])));
        const nx2 = Math.min(w, Math.max(...corners.map((p) => p[0])));
        const ny2 = Math.min(h, Math.max(...corners.map((p) => p[1])));
        const area = Math.max(0, nx2 - nx1) * Math.max(0, ny2 - ny1);
        const before = (x2 - x1) * (y2 - y1) * k * k;
        if (nx2 - nx1 > minSize && ny2 - ny1 > minSize && area > minAreaRatio * before) {
          kept.push(nx1, ny1, nx2, ny2);
          keptClasses.push(s.boxClasses?.[i / 4] ?? 0);
        }
      }
      boxes = Float32Array.from(kept);
      boxClasses = Int32Array.from(keptClasses);
    }
    return { ...s, image, mask, boxes, boxClasses };
  }
}

/** Transforms in order. */
export class Compose implements SampleTransform {
  constructor(readonly transforms: SampleTransform[]) {}
  spec(set: SampleSet): TransformSpec | null {
    const items = this.transforms.map((t) => t.spec?.(set) ?? null);
    return items.every((i) => i) ? { name: 'compose', options: {}, items: items as TransformSpec[] } : null;
  }
  apply(s: Sample, rng: Rng): Sample {
    return this.transforms.reduce((acc, t) => t.apply(acc, rng), s);
  }
}

/**
 * HSV jitter (pixels only), as Ultralytics' `hsv_h / hsv_s / hsv_v`: hue shifted by ± `h` of a full turn,
 * saturation and value scaled by 1 ± `s` and 1 ± `v`, one draw per image. Grey images get the value gain only.
 */
export class HsvJitter implements SampleTransform {
  constructor(readonly gains: { h?: number; s?: number; v?: number }) {}
  spec(): TransformSpec {
    return { name: 'hsv', options: { ...this.gains } };
  }

  apply(sample: Sample, rng: Rng): Sample {
    const { h = 0, s = 0, v = 0 } = this.gains;
    if (!h && !s && !v) return sample;
    const dh = h * rng.uniform(-1, 1) * 6; // hue in sextants (0..6)
    const ks = 1 + s * rng.uniform(-1, 1);
    const kv = 1 + v * rng.uniform(-1, 1);
    const c = sample.shape[2];
    const src = sample.image;
    const image = new Uint8Array(src.length);
    const native = nativeImageOps();
    if (native && c === 3) {
      native.hsvJitter(src, image, Float64Array.of(dh, ks, kv));
      return { ...sample, image };
    }
    if (c !== 3) {
      for (let i = 0; i < src.length; i++) image[i] = Math.min(255, Math.round(src[i] * kv));
      return { ...sample, image };
    }
    for (let i = 0; i < src.length; i += 3) {
      const r = src[i];
      const g = src[i + 1];
      const b = src[i + 2];
      const max = r > g ? (r > b ? r : b) : g > b ? g : b;
      const min = r < g ? (r < b ? r : b) : g < b ? g : b;
      const d = max - min;
      let hue = d === 0 ? 0 : max === r ? (g - b) / d + 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      hue += dh;
      hue -= 6 * Math.floor(hue / 6);
      const val = max * kv > 255 ? 255 : max * kv;
      const sr = max === 0 ? 0 : (d / max) * ks;
      const sat = sr < 1 ? sr : 1;
      // HSV → RGB without temporaries: channel n takes v − v·s·max(0, min(k, 4 − k, 1)), k = (n + h) mod 6
      // max(0, min(k, 4 − k, 1)) written out; the result is ≥ 0, so (x + 0.5) | 0 rounds as Math.round.
      const vs = val * sat;
      let k = 5 + hue;
      k = k >= 6 ? (k >= 12 ? k - 12 : k - 6) : k;
      let m = k < 4 - k ? k : 4 - k;
      image[i] = (val - vs * (m < 0 ? 0 : m > 1 ? 1 : m) + 0.5) | 0;
      k = 3 + hue;
      k = k >= 6 ? k - 6 : k;
      m = k < 4 - k ? k : 4 - k;
      image[i + 1] = (val - vs * (m < 0 ? 0 : m > 1 ? 1 : m) + 0.5) | 0;
      k = 1 + hue;
      k = k >= 6 ? k - 6 : k;
      m = k < 4 - k ? k : 4 - k;
      image[i + 2] = (val - vs * (m < 0 ? 0 : m > 1 ? 1 : m) + 0.5) | 0;
    }
    return { ...sample, image };
  }
}

/**
 * Mosaic (YOLOv4 / Ultralytics): the sample and three others drawn from `set` tiled 2×2 around a random
 * centre, and the sample-sized window in the middle of the 2×2 canvas kept — so objects keep their size
 * and every output pixel comes from one of the four images. Boxes move with their tile and are clipped
 * to it (dropped when less than `minAreaRatio` of them or a strip under `minSize` px stays); masks tile
 * with the pixels. All samples of `set` must have one shape (letterboxed sets do). Applied with probability `p`.
 */
export class Mosaic implements SampleTransform {
  constructor(
    readonly set: SampleSet,
    readonly options: { p?: number; minAreaRatio?: number; minSize?: number } = {},
  ) {}
  /** Describable only when it draws from the loader's own set (the worker rebuilds it on its copy). */
  spec(set: SampleSet): TransformSpec | null {
    return set === this.set ? { name: 'mosaic', options: { ...this.options } } : null;
  }

  apply(sample: Sample, rng: Rng): Sample {
    const { p = 1, minAreaRatio = 0.1, minSize = 2 } = this.options;
    if (!(rng.next() < p) || this.set.length < 1) return sample;
    const [h, w, c] = sample.shape;
    const tiles: Sample[] = Array.from({ length: 4 }, () => this.set.get(Math.floor(rng.next() * this.set.length)));
    tiles[Math.floor(rng.next() * 4)] = sample;
    tiles.forEach((t, i) => {
      if (t.shape.join() !== sample.shape.join())
        throw new Error(`Mosaic: tile ${i} is ${t.shape.join('×')}, the sample ${sample.shape.join('×')}; letterbox the set to one size`);
    });
    // The window's top-left quadrant ends at (ox, oy); tile k's pixel (sx, sy) lands at (sx + dx, sy + dy).
    const ox = Math.floor(rng.uniform(0, w));
    const oy = Math.floor(rng.uniform(0, h));
    const shifts = [
      [ox - w, oy - h],
      [ox, oy - h],
      [ox - w, oy],
      [ox, oy],
    ];
    const regions = [
      [0, 0, ox, oy],
      [ox, 0, w, oy],
      [0, oy, ox, h],
      [ox, oy, w, h],
    ];
    const image = new Uint8Array(h * w * c);
    const withMask = tiles.some((t) => t.mask);
    const mask = withMask ? new Uint8Array(h * w).fill(IGNORE_INDEX) : undefined;
    const boxes: number[] = [];
    const classes: number[] = [];
    tiles.forEach((t, k) => {
      const [dx, dy] = shifts[k];
      const [rx1, ry1, rx2, ry2] = regions[k];
      for (let y = ry1; y < ry2; y++) {
        const sy = y - dy;
        image.set(t.image.subarray((sy * w + rx1 - dx) * c, (sy * w + rx2 - dx) * c), (y * w + rx1) * c);
        if (mask && t.mask) mask.set(t.mask.subarray(sy * w + rx1 - dx, sy * w + rx2 - dx), y * w + rx1);
      }
      if (!t.boxes) return;
      for (let i = 0; i < t.boxes.length; i += 4) {
        const x1 = Math.max(rx1, t.boxes[i] + dx);
        const y1 = Math.max(ry1, t.boxes[i + 1] + dy);
        const x2 = Math.min(rx2, t.boxes[i + 2] + dx);
        const y2 = Math.min(ry2, t.boxes[i + 3] + dy);
        const before = (t.boxes[i + 2] - t.boxes[i]) * (t.boxes[i + 3] - t.boxes[i + 1]);
        if (x2 - x1 > minSize && y2 - y1 > minSize && (x2 - x1) * (y2 - y1) > minAreaRatio * before) {
          boxes.push(x1, y1, x2, y2);
          classes.push(t.boxClasses?.[i / 4] ?? 0);
        }
      }
    });
    const hasBoxes = tiles.some((t) => t.boxes);
    return {
      ...sample,
      image,
      mask,
      boxes: hasBoxes ? Float32Array.from(boxes) : undefined,
      boxClasses: hasBoxes ? Int32Array.from(classes) : undefined,
      source: undefined,
    };
  }
}

/** Rebuilds a transform from its spec; `set` is the loader's set (Mosaic draws from it). */
export function transformFromSpec(spec: TransformSpec, set: SampleSet): SampleTransform {
  const o = spec.options as never;
  switch (spec.name) {
    case 'flip':
      return new RandomFlip((spec.options as { p: number }).p);
    case 'affine':
      return new RandomAffine(o);
    case 'hsv':
      return new HsvJitter(o);
    case 'mosaic':
      return new Mosaic(set, o);
    case 'compose':
      return new Compose((spec.items ?? []).map((i) => transformFromSpec(i, set)));
  }
}
