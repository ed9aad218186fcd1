import * as tf from '@tensorflow/tfjs';
import { ceilDiv, dispatch, uniformBlock, type WebgpuBackend } from './device';
import { flatIndex, grid1d } from './grid';

/**
 * Training BatchNormalization, swish and the moving-average update as WGSL kernels, under the kernel names the
 * oneDNN path registers on wasm (`CvBatchNormTrain`, `CvBatchNormTrainGrad`, `CvSwish`, `CvSwishGrad`,
 * `CvMovingAverage`), so `fused-layers.ts` runs the same custom-gradient ops on WebGPU: tfjs-layers trains a
 * BatchNormalization through `moments` + `batchNormalization` and their autograd (~25 ops and passes over the
 * activation per layer and step); here the forward is 4 dispatches and the backward 3.
 *
 * Layout: x is [M, C] (every axis but the last flattened: NHWC → M = N·H·W), channel fastest.
 * Per-channel sums over M are done in slices ("split-M", as the filter gradient): workgroup (x, y) sums channel
 * tile x over row slice y into partial[y, c]; 256 invocations per workgroup cover CT = min(C, 64) channels
 * (consecutive invocations → consecutive channels: coalesced reads) × 256 / CT row phases, then add their phases
 * in workgroup memory. The finishing kernels add the slices, one invocation per channel.
 *
 * Forward:  mean = Σx / M;  var = Σ(x − mean)² / M (biased, two passes as tf.moments);
 *           y = (x − mean) · γ / √(var + ε) + β.
 * Backward: x̂ = (x − mean) / √(var + ε);  dβ = Σdy;  dγ = Σdy·x̂;
 *           dx = γ / √(var + ε) · (dy − dβ / M − x̂ · dγ / M)   (the gradient through the batch statistics).
 */

const WG = 256;

/** Channels per workgroup tile, row slices and rows per slice for a column reduction of [m, c]. */
export function columnPlan(m: number, c: number): { ct: number; slices: number; chunk: number } {
  const ct = Math.min(c, 64);
  const tiles = ceilDiv(c, ct);
  const wanted = Math.max(1, Math.min(ceilDiv(512, tiles), ceilDiv(m, 256), 65535));
  const chunk = ceilDiv(m, wanted);
  return { ct, slices: ceilDiv(m, chunk), chunk };
}

/** The column-sum skeleton: `term(row, c)` is what is summed (WGSL expression); `outs` partials per channel. */
function columnSums(bindings: string, terms: string[], prelude = ''): string {
  const n = terms.length;
  return /* wgsl */ `
struct U { m: u32, c: u32, ct: u32, chunk: u32, slices: u32, eps: f32 }
${bindings}
var<workgroup> shm: array<f32, ${WG * n}>;

@compute @workgroup_size(${WG}, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.x;
  let phases = ${WG}u / u.ct;
  let phase = t / u.ct;
  let c = wid.x * u.ct + t % u.ct;
  let r0 = wid.y * u.chunk;
  let r1 = min(u.m, r0 + u.chunk);
  ${terms.map((_, j) => `var s${j} = 0.0;`).join(' ')}
  if (phase < phases && c < u.c) {
    ${prelude}
    for (var r = r0 + phase; r < r1; r += phases) {
      let i = r * u.c + c;
      ${terms.map((term, j) => `s${j} = s${j} + ${term};`).join('\n      ')}
    }
  }
  ${terms.map((_, j) => `shm[${j * WG}u + t] = s${j};`).join(' ')}
  workgroupBarrier();
  if (phase == 0u && c < u.c) {
    ${terms.map((_, j) => `var a${j} = 0.0;`).join(' ')}
    for (var p = 0u; p < phases; p++) {
      ${terms.map((_, j) => `a${j} = a${j} + shm[${j * WG}u + p * u.ct + t];`).join(' ')}
    }
    ${terms.map((_, j) => `partial[(wid.y * ${n}u + ${j}u) * u.c + c] = a${j};`).join(' ')}
  }
}
`;
}

const STORAGE = (i: number, name: string, write = false) => `@group(0) @binding(${i}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: array<f32>;`;

const SUM_X = columnSums([STORAGE(0, 'x'), STORAGE(1, 'partial', true), '@group(0) @binding(2) var<uniform> u: U;'].join('\n'), ['x[i]']);

// Σ(x − mean)², the mean from the first pass's partial sums (each invocation adds its channel's slices).
const SUM_SQ = columnSums(
  [STORAGE(0, 'x'), STORAGE(1, 'sums'), STORAGE(2, 'partial', true), '@group(0) @binding(3) var<uniform> u: U;'].join('\n'),
  ['(x[i] - mean) * (x[i] - mean)'],
  `var total = 0.0;
    for (var s = 0u; s < u.slices; s++) { total = total + sums[s * u.c + c]; }
    let mean = total / f32(u.m);`,
);

const STATS = /* wgsl */ `
struct U { m: u32, c: u32, ct: u32, chunk: u32, slices: u32, eps: f32 }
${STORAGE(0, 'sums')}
${STORAGE(1, 'squares')}
${STORAGE(2, 'mean', true)}
${STORAGE(3, 'variance', true)}
@group(0) @binding(4) var<uniform> u: U;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= u.c) { return; }
  var a = 0.0;
  var b = 0.0;
  for (var s = 0u; s < u.slices; s++) {
    a = a + sums[s * u.c + c];
    b = b + squares[s * u.c + c];
  }
  mean[c] = a / f32(u.m);
  variance[c] = b / f32(u.m);
}
`;

const NORMALIZE = /* wgsl */ `
struct U { size: u32, c: u32, eps: f32 }
${STORAGE(0, 'x')}
${STORAGE(1, 'mean')}
${STORAGE(2, 'variance')}
${STORAGE(3, 'gamma')}
${STORAGE(4, 'beta')}
${STORAGE(5, 'y', true)}
@group(0) @binding(6) var<uniform> u: U;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex};
  if (i >= u.size) { return; }
  let c = i % u.c;
  y[i] = (x[i] - mean[c]) * gamma[c] / sqrt(variance[c] + u.eps) + beta[c];
}
`;

// Σdy and Σdy·x̂ per channel, in one pass.
const GRAD_SUMS = columnSums(
  [STORAGE(0, 'dy'), STORAGE(1, 'x'), STORAGE(2, 'mean'), STORAGE(3, 'variance'), STORAGE(4, 'partial', true), '@group(0) @binding(5) var<uniform> u: U;'].join(
    '\n',
  ),
  ['dy[i]', 'dy[i] * (x[i] - mu) * inv'],
  `let mu = mean[c];
    let inv = 1.0 / sqrt(variance[c] + u.eps);`,
);

const GRAD_PARAMS = /* wgsl */ `
struct U { m: u32, c: u32, ct: u32, chunk: u32, slices: u32, eps: f32 }
${STORAGE(0, 'partial')}
${STORAGE(1, 'dgamma', true)}
${STORAGE(2, 'dbeta', true)}
@group(0) @binding(3) var<uniform> u: U;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= u.c) { return; }
  var a = 0.0;
  var b = 0.0;
  for (var s = 0u; s < u.slices; s++) {
    a = a + partial[(s * 2u) * u.c + c];
    b = b + partial[(s * 2u + 1u) * u.c + c];
  }
  dbeta[c] = a;
  dgamma[c] = b;
}
`;

const GRAD_X = /* wgsl */ `
struct U { size: u32, c: u32, m: u32, eps: f32 }
${STORAGE(0, 'dy')}
${STORAGE(1, 'x')}
${STORAGE(2, 'mean')}
${STORAGE(3, 'variance')}
${STORAGE(4, 'gamma')}
${STORAGE(5, 'dgamma')}
${STORAGE(6, 'dbeta')}
${STORAGE(7, 'dx', true)}
@group(0) @binding(8) var<uniform> u: U;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex};
  if (i >= u.size) { return; }
  let c = i % u.c;
  let inv = 1.0 / sqrt(variance[c] + u.eps);
  let m = f32(u.m);
  let xhat = (x[i] - mean[c]) * inv;
  dx[i] = gamma[c] * inv * (dy[i] - dbeta[c] / m - xhat * dgamma[c] / m);
}
`;

const ELEMENTWISE = (bindings: string, body: string, extra = '') => /* wgsl */ `
struct U { size: u32${extra} }
${bindings}
@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex};
  if (i >= u.size) { return; }
  ${body}
}
`;

const SWISH = ELEMENTWISE(
  `${STORAGE(0, 'x')}\n${STORAGE(1, 'y', true)}\n@group(0) @binding(2) var<uniform> u: U;`,
  'let v = x[i];\n  y[i] = v / (1.0 + exp(-v));',
);

// d/dx x·σ(x) = σ(x)·(1 + x·(1 − σ(x)))
const SWISH_GRAD = ELEMENTWISE(
  `${STORAGE(0, 'dy')}\n${STORAGE(1, 'x')}\n${STORAGE(2, 'dx', true)}\n@group(0) @binding(3) var<uniform> u: U;`,
  'let v = x[i];\n  let s = 1.0 / (1.0 + exp(-v));\n  dx[i] = dy[i] * (s * (1.0 + v * (1.0 - s)));',
);

// tfjs-layers' moving − (moving − value)·(1 − momentum)
const MOVING_AVERAGE = ELEMENTWISE(
  `${STORAGE(0, 'moving')}\n${STORAGE(1, 'value')}\n${STORAGE(2, 'out', true)}\n@group(0) @binding(3) var<uniform> u: U;`,
  'out[i] = moving[i] - (moving[i] - value[i]) * u.decay;',
  ', decay: f32',
);

type Inputs = Record<string, tf.TensorInfo>;
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
const gpu = (backend: unknown) => backend as WebgpuBackend;

function columnUniforms(m: number, c: number, eps: number) {
  const plan = columnPlan(m, c);
  return { plan, uniforms: uniformBlock([{ u32: [m, c, plan.ct, plan.chunk, plan.slices] }, { f32: [eps] }]) };
}

export const webgpuLayerKernels: tf.KernelConfig[] = [
  {
    kernelName: 'CvBatchNormTrain',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, gamma, beta } = inputs as Inputs;
      const b = gpu(backend);
      const eps = Number(attrs!.epsilon);
      const c = x.shape[x.shape.length - 1];
      const m = sizeOf(x.shape) / c;
      const { plan, uniforms } = columnUniforms(m, c, eps);
      const wg: [number, number, number] = [ceilDiv(c, plan.ct), plan.slices, 1];
      const [sums] = dispatch(b, { code: SUM_X, inputs: [x], outputs: [{ shape: [plan.slices, c], dtype: 'float32' }], uniforms, workgroups: wg });
      const [squares] = dispatch(b, { code: SUM_SQ, inputs: [x, sums], outputs: [{ shape: [plan.slices, c], dtype: 'float32' }], uniforms, workgroups: wg });
      const [mean, variance] = dispatch(b, {
        code: STATS,
        inputs: [sums, squares],
        outputs: [
          { shape: [c], dtype: 'float32' },
          { shape: [c], dtype: 'float32' },
        ],
        uniforms,
        workgroups: [ceilDiv(c, 64), 1, 1],
      });
      const [y] = dispatch(b, {
        code: NORMALIZE,
        inputs: [x, mean, variance, gamma, beta],
        outputs: [{ shape: x.shape, dtype: 'float32' }],
        uniforms: uniformBlock([{ u32: [m * c, c] }, { f32: [eps] }]),
        workgroups: grid1d(m * c),
      });
      b.disposeData(sums.dataId);
      b.disposeData(squares.dataId);
      return [y, mean, variance];
    },
  },
  {
    kernelName: 'CvBatchNormTrainGrad',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, x, mean, variance, gamma } = inputs as Inputs;
      const b = gpu(backend);
      const eps = Number(attrs!.epsilon);
      const c = x.shape[x.shape.length - 1];
      const m = sizeOf(x.shape) / c;
      const { plan, uniforms } = columnUniforms(m, c, eps);
      const [partial] = dispatch(b, {
        code: GRAD_SUMS,
        inputs: [dy, x, mean, variance],
        outputs: [{ shape: [plan.slices, 2, c], dtype: 'float32' }],
        uniforms,
        workgroups: [ceilDiv(c, plan.ct), plan.slices, 1],
      });
      const [dgamma, dbeta] = dispatch(b, {
        code: GRAD_PARAMS,
        inputs: [partial],
        outputs: [
          { shape: [c], dtype: 'float32' },
          { shape: [c], dtype: 'float32' },
        ],
        uniforms,
        workgroups: [ceilDiv(c, 64), 1, 1],
      });
      const [dx] = dispatch(b, {
        code: GRAD_X,
        inputs: [dy, x, mean, variance, gamma, dgamma, dbeta],
        outputs: [{ shape: x.shape, dtype: 'float32' }],
        uniforms: uniformBlock([{ u32: [m * c, c, m] }, { f32: [eps] }]),
        workgroups: grid1d(m * c),
      });
      b.disposeData(partial.dataId);
      return [dx, dgamma, dbeta];
    },
  },
  {
    kernelName: 'CvSwish',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs.x as tf.TensorInfo;
      const n = sizeOf(x.shape);
      return dispatch(gpu(backend), {
        code: SWISH,
        inputs: [x],
        outputs: [{ shape: x.shape, dtype: 'float32' }],
        uniforms: uniformBlock([{ u32: [n] }]),
        workgroups: grid1d(n),
      })[0];
    },
  },
  {
    kernelName: 'CvSwishGrad',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const { dy, x } = inputs as Inputs;
      const n = sizeOf(x.shape);
      return dispatch(gpu(backend), {
        code: SWISH_GRAD,
        inputs: [dy, x],
        outputs: [{ shape: x.shape, dtype: 'float32' }],
        uniforms: uniformBlock([{ u32: [n] }]),
        workgroups: grid1d(n),
      })[0];
    },
  },
  {
    kernelName: 'CvMovingAverage',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { moving, value } = inputs as Inputs;
      const n = sizeOf(moving.shape);
      return dispatch(gpu(backend), {
        code: MOVING_AVERAGE,
        inputs: [moving, value],
        outputs: [{ shape: moving.shape, dtype: 'float32' }],
        uniforms: uniformBlock([{ u32: [n] }, { f32: [1 - Number(attrs!.momentum)] }]),
        workgroups: grid1d(n),
      })[0];
    },
  },
];
