import * as tf from '@tensorflow/tfjs';
import { ceilDiv, dispatch, uniformBlock, type WebgpuBackend } from './device';
import { flatIndex, grid1d } from './grid';

/**
 * Conv2DBackpropFilter (the gradient of a convolution's filter) as a tiled, split-K implicit GEMM in WGSL.
 *
 * Layout (NHWC / HWIO, as tfjs keeps them):
 *   x  [N, H, W, Ci],  dy [N, OH, OW, Co],  dW [KH, KW, Ci, Co]
 *   dW[kh, kw, ci, co] = Σ over (n, oh, ow) of x[n, oh·sh − pt + kh·dh, ow·sw − pl + kw·dw, ci] · dy[n, oh, ow, co]
 * As a matrix product: C[K × Co] = Aᵀ · B with
 *   k = (kh·KW + kw)·Ci + ci  (K = KH·KW·Ci; C row-major is dW in HWIO order, no transpose),
 *   m = (n·OH + oh)·OW + ow   (M = N·OH·OW, the reduction),
 *   A[m, k] = the input pixel under filter tap k for output pixel m (0 in the padding): im2col, never stored,
 *   B[m, co] = dy as it lies in memory.
 * The output is small (K·Co) and the reduction long (a batch of 32 at 64×64 is M = 131,072), so each workgroup
 * owns a 32 × 32 tile of C and one slice of M ("split-K"): workgroup (x, y, z) = (Co tile, K tile, M slice). Per
 * step it stages 32 rows of A and B in workgroup memory (consecutive invocations read consecutive ci / co, the
 * innermost NHWC axes) and each of its 16 × 16 invocations accumulates a 2 × 2 block of C in f32 registers. The
 * slices' partial sums [S, K, Co] are then added in a second pass (one invocation per element of dW); with one
 * slice the first pass writes dW directly. tfjs's own kernel gives every element of dW one invocation that walks
 * all of M alone (~47 ms at 64×64×32→32, batch 32, on an H200).
 */

const TILE = 32; // rows of M per step and the K × Co tile edge
const WORKGROUPS_WANTED = 512; // enough workgroups to fill a large GPU several times over
const MIN_ROWS_PER_SLICE = 256;
const MAX_PARTIALS = 1 << 24; // floats of partial sums (64 MiB)

const GEMM = /* wgsl */ `
struct U {
  h: i32, w: i32, ci: i32, oh: i32,
  ow: i32, co: i32, kw: i32, k: i32,
  strideH: i32, strideW: i32, padT: i32, padL: i32,
  dilH: i32, dilW: i32, m: i32, chunk: i32,
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> partial: array<f32>;
@group(0) @binding(3) var<uniform> u: U;

const T = ${TILE};
var<workgroup> As: array<array<f32, T>, T>; // As[m][k]
var<workgroup> Bs: array<array<f32, T>, T>; // Bs[m][co]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = i32(lid.x); // → co
  let ty = i32(lid.y); // → k
  let t = ty * 16 + tx;
  let c0 = i32(wid.x) * T;
  let k0 = i32(wid.y) * T;
  let mStart = i32(wid.z) * u.chunk;
  let mEnd = min(u.m, mStart + u.chunk);
  var acc00 = 0.0; var acc01 = 0.0; var acc10 = 0.0; var acc11 = 0.0;
  for (var m0 = mStart; m0 < mEnd; m0 += T) {
    for (var i = 0; i < 4; i++) {
      let idx = t + i * 256;
      let r = idx / T; // row of the step (m)
      let col = idx % T; // k for A, co for B
      let m = m0 + r;
      let k = k0 + col;
      var a = 0.0;
      if (m < mEnd && k < u.k) {
        let ow = m % u.ow;
        let q = m / u.ow;
        let oh = q % u.oh;
        let n = q / u.oh;
        let ci = k % u.ci;
        let tap = k / u.ci;
        let iy = oh * u.strideH - u.padT + (tap / u.kw) * u.dilH;
        let ix = ow * u.strideW - u.padL + (tap % u.kw) * u.dilW;
        if (iy >= 0 && iy < u.h && ix >= 0 && ix < u.w) {
          a = x[((n * u.h + iy) * u.w + ix) * u.ci + ci];
        }
      }
      As[r][col] = a;
      let c = c0 + col;
      var b = 0.0;
      if (m < mEnd && c < u.co) {
        b = dy[m * u.co + c];
      }
      Bs[r][col] = b;
    }
    workgroupBarrier();
    for (var r = 0; r < T; r++) {
      let a0 = As[r][ty];
      let a1 = As[r][ty + 16];
      let b0 = Bs[r][tx];
      let b1 = Bs[r][tx + 16];
      acc00 = acc00 + a0 * b0;
      acc01 = acc01 + a0 * b1;
      acc10 = acc10 + a1 * b0;
      acc11 = acc11 + a1 * b1;
    }
    workgroupBarrier();
  }
  let base = i32(wid.z) * u.k * u.co;
  let kA = k0 + ty;
  let kB = k0 + ty + 16;
  let cA = c0 + tx;
  let cB = c0 + tx + 16;
  if (kA < u.k && cA < u.co) { partial[base + kA * u.co + cA] = acc00; }
  if (kA < u.k && cB < u.co) { partial[base + kA * u.co + cB] = acc01; }
  if (kB < u.k && cA < u.co) { partial[base + kB * u.co + cA] = acc10; }
  if (kB < u.k && cB < u.co) { partial[base + kB * u.co + cB] = acc11; }
}
`;

const SUM_SLICES = /* wgsl */ `
struct U { size: u32, slices: u32 }
@group(0) @binding(0) var<storage, read> partial: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> u: U;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex};
  if (i >= u.size) { return; }
  var s = 0.0;
  for (var j = 0u; j < u.slices; j++) {
    s = s + partial[j * u.size + i];
  }
  out[i] = s;
}
`;

/** How many slices of M the filter gradient is split into, and the rows of M per slice (a multiple of 32). */
export function filterGradPlan(k: number, co: number, m: number): { slices: number; chunk: number } {
  const tiles = ceilDiv(k, TILE) * ceilDiv(co, TILE);
  const wanted = Math.max(1, Math.min(ceilDiv(WORKGROUPS_WANTED, tiles), Math.floor(m / MIN_ROWS_PER_SLICE), Math.floor(MAX_PARTIALS / (k * co)), 65535));
  const chunk = ceilDiv(ceilDiv(m, wanted), TILE) * TILE;
  return { slices: ceilDiv(m, chunk), chunk };
}

/** dW of a convolution (NHWC input, HWIO filter) on the webgpu backend; null where this kernel does not apply. */
export function conv2dFilterGrad(backend: WebgpuBackend, x: tf.TensorInfo, dy: tf.TensorInfo, attrs: Record<string, any>): tf.TensorInfo | null {
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if ((dataFormat ?? 'NHWC') !== 'NHWC' || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const co = info.outChannels;
  const m = info.batchSize * info.outHeight * info.outWidth;
  if (ceilDiv(k, TILE) > 65535 || ceilDiv(co, TILE) > 65535) return null;
  const { slices, chunk } = filterGradPlan(k, co, m);
  const uniforms = uniformBlock([
    {
      i32: [
        info.inHeight,
        info.inWidth,
        info.inChannels,
        info.outHeight,
        info.outWidth,
        co,
        info.filterWidth,
        k,
        info.strideHeight,
        info.strideWidth,
        info.padInfo.top,
        info.padInfo.left,
        info.dilationHeight,
        info.dilationWidth,
        m,
        chunk,
      ],
    },
  ]);
  const workgroups: [number, number, number] = [ceilDiv(co, TILE), ceilDiv(k, TILE), slices];
  if (slices === 1) {
    const [dw] = dispatch(backend, { code: GEMM, inputs: [x, dy], outputs: [{ shape: filterShape, dtype: 'float32' }], uniforms, workgroups });
    return dw;
  }
  const [partial] = dispatch(backend, { code: GEMM, inputs: [x, dy], outputs: [{ shape: [slices, k, co], dtype: 'float32' }], uniforms, workgroups });
  const [dw] = dispatch(backend, {
    code: SUM_SLICES,
    inputs: [partial],
    outputs: [{ shape: filterShape, dtype: 'float32' }],
    uniforms: uniformBlock([{ u32: [k * co, slices] }]),
    workgroups: grid1d(k * co, 256),
  });
  backend.disposeData(partial.dataId);
  return dw;
}
