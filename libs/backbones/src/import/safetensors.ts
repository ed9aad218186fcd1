/**
 * safetensors reader (Hugging Face's format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data). Float tensors come back as float32;
 * a truncated or malformed file is refused with one line naming it.
 */

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** A file that is not what it claims to be (truncated, corrupt, unsupported dtype). */
export class WeightsFileError extends Error {
  override name = 'WeightsFileError';
}

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** IEEE half → float. */
export function half(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function toFloat32(dtype: string, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / BYTES[dtype];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(4 * i, true);
        break;
      case 'F64':
        out[i] = view.getFloat64(8 * i, true);
        break;
      case 'F16':
        out[i] = half(view.getUint16(2 * i, true));
        break;
      case 'BF16':
        out[i] = new Float32Array(new Uint32Array([view.getUint16(2 * i, true) << 16]).buffer)[0];
        break;
      case 'I64':
        out[i] = Number(view.getBigInt64(8 * i, true));
        break;
      case 'I32':
        out[i] = view.getInt32(4 * i, true);
        break;
      default:
        out[i] = dtype === 'I16' ? view.getInt16(2 * i, true) : dtype === 'I8' ? view.getInt8(i) : view.getUint8(i);
    }
  }
  return out;
}

/**
 * Every tensor of a safetensors file, by name (PyTorch state-dict keys).
 *
 * @example
 * const tensors = readSafetensors(fs.readFileSync('resnet18.safetensors'), 'resnet18.safetensors');
 * tensors.get('conv1.weight'); // { shape: [64, 3, 7, 7], data: Float32Array(9408) }
 */
export function readSafetensors(bytes: Uint8Array, where: string): Map<string, NamedTensor> {
  const bad = (why: string) => new WeightsFileError(`${where}: not a readable safetensors file (${why}); download it again or export it anew`);
  if (bytes.byteLength < 8) throw bad(`${bytes.byteLength} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 1 || 8 + headerLength > bytes.byteLength) throw bad(`header of ${headerLength} bytes in a ${bytes.byteLength}-byte file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('header is not a JSON object');
  const base = 8 + headerLength;
  const tensors = new Map<string, NamedTensor>();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!t || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets) || typeof t.dtype !== 'string')
      throw bad(`entry '${name}' lacks dtype / shape / data_offsets`);
    if (!(t.dtype in BYTES)) throw bad(`tensor '${name}' has dtype ${t.dtype}; supported: ${Object.keys(BYTES).join(', ')}`);
    const [begin, end] = t.data_offsets;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!(begin >= 0 && end >= begin && base + end <= bytes.byteLength)) throw bad(`tensor '${name}' lies past the end of the file (truncated?)`);
    if (end - begin !== count * BYTES[t.dtype]) throw bad(`tensor '${name}' holds ${end - begin} bytes for shape [${t.shape}] ${t.dtype}`);
    tensors.set(name, { shape: t.shape, data: toFloat32(t.dtype, bytes.subarray(base + begin, base + end)) });
  }
  return tensors;
}
