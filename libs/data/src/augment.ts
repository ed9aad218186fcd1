import type { Rng } from '@cv/engine';

/** Seeded classification augmentations on one float HWC image; every field off (0/false) by default. */
export interface AugmentConfig {
  /** Zero-pad by this many pixels, then crop back at a random offset. */
  cropPadding?: number;
  /** Probability of a horizontal flip. */
  flip?: number;
  /** Max rotation in degrees (±). */
  rotate?: number;
  /** Max relative scale change (±), e.g. 0.1. */
  scale?: number;
  /** Max translation as a fraction of the size (±). */
  translate?: number;
  /** Max brightness shift (±, in 0..1 units). */
  brightness?: number;
  /** Max relative contrast change (±). */
  contrast?: number;
}

export const isIdentityAugment = (a: AugmentConfig): boolean =>
  !a.cropPadding && !a.flip && !a.rotate && !a.scale && !a.translate && !a.brightness && !a.contrast;

/** Random crop after zero padding (the CIFAR recipe). In place. */
function randomCrop(img: Float32Array, [h, w, c]: number[], pad: number, rng: Rng): void {
  const dy = rng.int(2 * pad + 1) - pad;
  const dx = rng.int(2 * pad + 1) - pad;
  if (dy === 0 && dx === 0) return;
  const src = img.slice();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const sy = y + dy;
      const sx = x + dx;
      const inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
      for (let k = 0; k < c; k++) img[(y * w + x) * c + k] = inside ? src[(sy * w + sx) * c + k] : 0;
    }
  }
}

function flipHorizontal(img: Float32Array, [h, w, c]: number[]): void {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w >> 1; x++) {
      for (let k = 0; k < c; k++) {
        const a = (y * w + x) * c + k;
        const b = (y * w + (w - 1 - x)) * c + k;
        [img[a], img[b]] = [img[b], img[a]];
      }
    }
  }
}

/** Rotation + scale + translation about the centre, bilinear sampling, zeros outside. In place. */
function affine(img: Float32Array, [h, w, c]: number[], angle: number, s: number, tx: number, ty: number): void {
  const src = img.slice();
  const cos = Math.cos(angle) / s;
  const sin = Math.sin(angle) / s;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse map: output pixel → source coordinate.
      const u = x - cx - tx;
      const v = y - cy - ty;
      const sx = cos * u + sin * v + cx;
      const sy = -sin * u + cos * v + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let k = 0; k < c; k++) {
        const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[(yy * w + xx) * c + k] : 0);
        img[(y * w + x) * c + k] = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    }
  }
}

/**
 * Applies the configured augmentations to one image (values in 0..1, HWC), drawing from `rng`.
 *
 * @example
 * augmentImage(pixels, [28, 28, 1], { cropPadding: 2, flip: 0.5 }, rng);
 */
export function augmentImage(img: Float32Array, shape: [number, number, number], cfg: AugmentConfig, rng: Rng): void {
  const [h, w] = shape;
  if (cfg.cropPadding) randomCrop(img, shape, cfg.cropPadding, rng);
  if (cfg.flip && rng.next() < cfg.flip) flipHorizontal(img, shape);
  if (cfg.rotate || cfg.scale || cfg.translate) {
    const angle = ((cfg.rotate ?? 0) * Math.PI * rng.uniform(-1, 1)) / 180;
    const s = 1 + (cfg.scale ?? 0) * rng.uniform(-1, 1);
    const tx = (cfg.translate ?? 0) * w * rng.uniform(-1, 1);
    const ty = (cfg.translate ?? 0) * h * rng.uniform(-1, 1);
    affine(img, shape, angle, s, tx, ty);
  }
  if (cfg.brightness || cfg.contrast) {
    const b = (cfg.brightness ?? 0) * rng.uniform(-1, 1);
    const k = 1 + (cfg.contrast ?? 0) * rng.uniform(-1, 1);
    let mean = 0;
    for (let i = 0; i < img.length; i++) mean += img[i];
    mean /= img.length;
    for (let i = 0; i < img.length; i++) img[i] = Math.min(1, Math.max(0, (img[i] - mean) * k + mean + b));
  }
}
