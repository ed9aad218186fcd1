import * as tf from '@tensorflow/tfjs';
import { dispatch, uniformBlock, type WebgpuBackend } from './device';
import { flatIndex, grid1d } from './grid';

/**
 * The Adam update of one variable as one WGSL kernel (tfjs's AdamOptimizer spends ~12 ops per variable, five of
 * them on a JavaScript number that tfjs uploads as a new scalar tensor each time). The hyperparameters travel in
 * the kernel's uniform block; the bias corrections 1 − βᵗ are computed on the GPU from the optimizer's accBeta
 * variables once per step (`CvAdamCorrections`), so nothing is read back and no scalar tensor is made. The float32 arithmetic is tfjs's, in its order:
 *   m' = m·β1 + g·(1 − β1)        v' = v·β2 + g²·(1 − β2)
 *   w' = ((m' / (1 − β1ᵗ)) / (√(v' / (1 − β2ᵗ)) + ε))·(−lr) + w
 * Inputs value, gradient, m, v, corrections [1 − β1ᵗ, 1 − β2ᵗ]; outputs w', m', v' (new tensors: the optimizer assigns
 * them, as with the oneDNN kernel of the same name). `CvAdamBetas` advances accBeta1/2 by β1/β2 the same way.
 */

const ADAM = /* wgsl */ `
struct U { size: u32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, negLr: f32, epsilon: f32 }
@group(0) @binding(0) var<storage, read> value: array<f32>;
@group(0) @binding(1) var<storage, read> gradient: array<f32>;
@group(0) @binding(2) var<storage, read> m: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read> corrections: array<f32>;
@group(0) @binding(5) var<storage, read_write> value2: array<f32>;
@group(0) @binding(6) var<storage, read_write> m2: array<f32>;
@group(0) @binding(7) var<storage, read_write> v2: array<f32>;
@group(0) @binding(8) var<uniform> u: U;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex};
  if (i >= u.size) { return; }
  let c1 = corrections[0];
  let c2 = corrections[1];
  let g = gradient[i];
  let nm = m[i] * u.beta1 + g * u.oneMinusBeta1;
  let nv = v[i] * u.beta2 + (g * g) * u.oneMinusBeta2;
  m2[i] = nm;
  v2[i] = nv;
  value2[i] = ((nm / c1) / (sqrt(nv / c2) + u.epsilon)) * u.negLr + value[i];
}
`;

// 1 − β1ᵗ and 1 − β2ᵗ once per step (WebGPU guarantees 8 storage buffers per kernel: Adam's 4 inputs, these,
// and its 3 outputs).
const CORRECTIONS = /* wgsl */ `
@group(0) @binding(0) var<storage, read> accBeta1: array<f32>;
@group(0) @binding(1) var<storage, read> accBeta2: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(1, 1, 1)
fn main() {
  out[0] = 1.0 - accBeta1[0];
  out[1] = 1.0 - accBeta2[0];
}
`;

const BETAS = /* wgsl */ `
struct U { beta1: f32, beta2: f32 }
@group(0) @binding(0) var<storage, read> accBeta1: array<f32>;
@group(0) @binding(1) var<storage, read> accBeta2: array<f32>;
@group(0) @binding(2) var<storage, read_write> next1: array<f32>;
@group(0) @binding(3) var<storage, read_write> next2: array<f32>;
@group(0) @binding(4) var<uniform> u: U;

@compute @workgroup_size(1, 1, 1)
fn main() {
  next1[0] = accBeta1[0] * u.beta1;
  next2[0] = accBeta2[0] * u.beta2;
}
`;

type Inputs = Record<string, tf.TensorInfo>;

export const webgpuAdamKernels: tf.KernelConfig[] = [
  {
    kernelName: 'CvAdam',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { value, gradient, m, v, corrections } = inputs as Inputs;
      const { lr, beta1, beta2, epsilon } = attrs as unknown as { lr: number; beta1: number; beta2: number; epsilon: number };
      const size = value.shape.reduce((a, b) => a * b, 1);
      const like = { shape: value.shape, dtype: 'float32' as const };
      return dispatch(backend as unknown as WebgpuBackend, {
        code: ADAM,
        inputs: [value, gradient, m, v, corrections],
        outputs: [like, like, like],
        // 1 − β and −lr in double, then float32: what tfjs's mul(x, 1 - beta) and mul(y, -lr) upload.
        uniforms: uniformBlock([{ u32: [size] }, { f32: [beta1, 1 - beta1, beta2, 1 - beta2, -lr, epsilon] }]),
        workgroups: grid1d(size),
      });
    },
  },
  {
    kernelName: 'CvAdamCorrections',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, backend }) => {
      const { accBeta1, accBeta2 } = inputs as Inputs;
      return dispatch(backend as unknown as WebgpuBackend, {
        code: CORRECTIONS,
        inputs: [accBeta1, accBeta2],
        outputs: [{ shape: [2], dtype: 'float32' }],
        workgroups: [1, 1, 1],
      });
    },
  },
  {
    kernelName: 'CvAdamBetas',
    backendName: 'webgpu',
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { accBeta1, accBeta2 } = inputs as Inputs;
      const { beta1, beta2 } = attrs as unknown as { beta1: number; beta2: number };
      return dispatch(backend as unknown as WebgpuBackend, {
        code: BETAS,
        inputs: [accBeta1, accBeta2],
        outputs: [
          { shape: [], dtype: 'float32' },
          { shape: [], dtype: 'float32' },
        ],
        uniforms: uniformBlock([{ f32: [beta1, beta2] }]),
        workgroups: [1, 1, 1],
      });
    },
  },
];
