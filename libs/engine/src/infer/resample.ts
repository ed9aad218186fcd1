import type { DecodedImage } from './preprocess';

/**
 * Image resampling as Pillow computes it (`Image.resize` with BILINEAR or BICUBIC: a separable filter widened by
 * the scale when shrinking — antialiasing — with 22-bit fixed-point coefficients, horizontal pass first, bytes
 * rounded between passes), and torchvision's eval transform on a PIL image (Resize of the shorter side, CenterCrop).
 * Bit-exact with Pillow, so an imported torchvision model sees the pixels PyTorch's own pipeline gives it.
 * Pure TypeScript: the same in Node and the browser.
 */

export type PilFilter = 'bilinear' | 'bicubic';

const PRECISION_BITS = 32 - 8 - 2;

const FILTERS: Record<PilFilter, { support: number; fn: (x: number) => number }> = {
  bilinear: {
    support: 1,
    fn: (x) => {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    },
  },
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
};

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc: per output pixel, the first input index, the count, and integer weights. */
function coefficients(inSize: number, outSize: number, filter: PilFilter): { bounds: Int32Array; kk: Int32Array; ksize: number } {
  const f = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = f.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const kk = new Int32Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = f.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const v = ww !== 0 ? k[x] / ww : k[x];
      kk[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[2 * xx] = xmin;
    bounds[2 * xx + 1] = xmax;
  }
  return { bounds, kk, ksize };
}

const clip8 = (v: number) => (v >= 1 << (PRECISION_BITS + 8) ? 255 : v <= 0 ? 0 : v >> PRECISION_BITS);

/** An image as 3-channel RGB bytes (grey repeated, alpha dropped), as PIL's convert('RGB'). */
export function toRgb(img: DecodedImage): DecodedImage {
  if (img.channels === 3) return img;
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const grey = img.channels <= 2;
    for (let c = 0; c < 3; c++) out[3 * i + c] = img.data[i * img.channels + (grey ? 0 : c)];
  }
  return { data: out, width: img.width, height: img.height, channels: 3 };
}

/**
 * Resizes RGB bytes to width × height exactly as Pillow's `Image.resize(size, BILINEAR | BICUBIC)`.
 *
 * @example
 * const small = resizePil(image, 256, 192, 'bilinear');
 */
export function resizePil(image: DecodedImage, width: number, height: number, filter: PilFilter = 'bilinear'): DecodedImage {
  const img = toRgb(image);
  if (img.width === width && img.height === height) return img;
  const C = 3;
  const horiz = coefficients(img.width, width, filter);
  const vert = coefficients(img.height, height, filter);
  const needH = width !== img.width;
  const needV = height !== img.height;
  let src = img.data;
  let srcW = img.width;
  let vBounds = vert.bounds;
  if (needH) {
    const first = vert.bounds[0];
    const last = vert.bounds[2 * height - 2] + vert.bounds[2 * height - 1];
    const rows = needV ? last - first : img.height;
    const offset = needV ? first : 0;
    if (needV) vBounds = vert.bounds.map((v, i) => (i % 2 === 0 ? v - first : v));
    const tmp = new Uint8Array(rows * width * C);
    const { bounds, kk, ksize } = horiz;
    for (let y = 0; y < rows; y++) {
      const row = (y + offset) * img.width * C;
      for (let xx = 0; xx < width; xx++) {
        const xmin = bounds[2 * xx];
        const xmax = bounds[2 * xx + 1];
        const k = xx * ksize;
        for (let c = 0; c < C; c++) {
          let ss = 1 << (PRECISION_BITS - 1);
          for (let x = 0; x < xmax; x++) ss += src[row + (x + xmin) * C + c] * kk[k + x];
          tmp[(y * width + xx) * C + c] = clip8(ss);
        }
      }
    }
    src = tmp;
    srcW = width;
  }
  if (!needV) return { data: src, width, height, channels: 3 };
  const out = new Uint8Array(height * srcW * C);
  const { kk, ksize } = vert;
  for (let yy = 0; yy < height; yy++) {
    const ymin = vBounds[2 * yy];
    const ymax = vBounds[2 * yy + 1];
    const k = yy * ksize;
    for (let x = 0; x < srcW * C; x++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < ymax; y++) ss += src[(y + ymin) * srcW * C + x] * kk[k + y];
      out[yy * srcW * C + x] = clip8(ss);
    }
  }
  return { data: out, width: srcW, height, channels: 3 };
}

/** Python's round(): halves to even. */
const roundHalfEven = (v: number) => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** torchvision's eval preprocessing of a PIL image: shorter side → `resize` (int(resize · long / short) for the other), centre crop `crop`². */
export interface CenterCropSpec {
  resize: number;
  crop: number;
  interpolation: PilFilter;
}

/**
 * torchvision's `Resize(resize)` + `CenterCrop(crop)` on a PIL image, bit-exact: RGB bytes of crop × crop (a crop
 * larger than the resized image is zero-padded as torchvision pads it).
 *
 * @example
 * const x = resizeCenterCrop(image, { resize: 256, crop: 224, interpolation: 'bilinear' });
 */
export function resizeCenterCrop(image: DecodedImage, spec: CenterCropSpec): DecodedImage {
  const { width: w, height: h } = image;
  const [short, long] = w <= h ? [w, h] : [h, w];
  const newLong = Math.trunc((spec.resize * long) / short);
  const [nw, nh] = w <= h ? [spec.resize, newLong] : [newLong, spec.resize];
  let img = resizePil(image, nw, nh, spec.interpolation);
  const crop = spec.crop;
  if (crop > img.width || crop > img.height) {
    // torchvision pads with zeros to the crop size first: left/top = (crop − size) // 2, right/bottom = the rest.
    const pw = Math.max(crop, img.width);
    const ph = Math.max(crop, img.height);
    const left = crop > img.width ? Math.floor((crop - img.width) / 2) : 0;
    const top = crop > img.height ? Math.floor((crop - img.height) / 2) : 0;
    const padded = new Uint8Array(pw * ph * 3);
    for (let y = 0; y < img.height; y++) padded.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + top) * pw + left) * 3);
    img = { data: padded, width: pw, height: ph, channels: 3 };
  }
  const top = roundHalfEven((img.height - crop) / 2);
  const left = roundHalfEven((img.width - crop) / 2);
  const out = new Uint8Array(crop * crop * 3);
  for (let y = 0; y < crop; y++) out.set(img.data.subarray(((y + top) * img.width + left) * 3, ((y + top) * img.width + left + crop) * 3), y * crop * 3);
  return { data: out, width: crop, height: crop, channels: 3 };
}
