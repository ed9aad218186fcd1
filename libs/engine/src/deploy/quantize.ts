import type * as tf from '@tensorflow/tfjs';

/** Weight quantization modes of `<task>:export -- --quantize`. */
export const QUANTIZE_MODES = ['float16', 'uint8'] as const;
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of `v`, rounded to nearest even (overflow → ±Inf, tiny → subnormal / 0). */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/**
 * The affine uint8 grid of tfjs's converter for values in [min, max]: the range widened to hold 0 and
 * nudged so that 0 is exactly representable (pruned zeros stay zero); value = q · scale + min.
 */
export function uint8Grid(min: number, max: number): { scale: number; min: number } {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi === lo) return { scale: 1, min: lo };
  const scale = (hi - lo) / 255;
  const zeroPoint = Math.round(-lo / scale);
  return { scale, min: -zeroPoint * scale };
}

/**
 * Quantizes every float32 weight of a model's weight manifest (per tensor) into the encodings tfjs
 * manifests carry natively (`quantization: {dtype: 'uint8', scale, min}` or `{dtype: 'float16'}`), so any
 * tfjs loader dequantizes them with no extra code. Other weights are copied as they are.
 */
export function quantizeWeights(
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
  mode: QuantizeMode,
): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const parts: Uint8Array[] = [];
  const out: tf.io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    if (spec.quantization) throw new Error(`weight '${spec.name}' is already quantized; export from the float32 model`);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = n * (spec.dtype === 'bool' ? 1 : 4);
    if (spec.dtype !== 'float32') {
      parts.push(new Uint8Array(data, offset, bytes).slice());
      out.push(spec);
      offset += bytes;
      continue;
    }
    const values = new Float32Array(data.slice(offset, offset + bytes));
    offset += bytes;
    if (mode === 'float16') {
      const half = new Uint16Array(n);
      for (let i = 0; i < n; i++) half[i] = toFloat16Bits(values[i]);
      parts.push(new Uint8Array(half.buffer));
      out.push({ ...spec, quantization: { dtype: 'float16' } });
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of values) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const { scale, min } = uint8Grid(n ? lo : 0, n ? hi : 0);
      const q = new Uint8Array(n);
      for (let i = 0; i < n; i++) q[i] = Math.max(0, Math.min(255, Math.round((values[i] - min) / scale)));
      parts.push(q);
      out.push({ ...spec, quantization: { dtype: 'uint8', scale, min } });
    }
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    joined.set(p, at);
    at += p.byteLength;
  }
  return { specs: out, data: joined.buffer };
}
