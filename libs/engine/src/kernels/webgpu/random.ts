import * as tf from '@tensorflow/tfjs';
import { dispatch, uniformBlock, type WebgpuBackend } from './device';
import { flatIndex, grid1d } from './grid';

/**
 * `CvRandomUniform`: uniform values in [0, 1) made on the GPU from (seed, element index) with a PCG hash (O'Neill
 * 2014's RXS-M-XS output over one LCG step, applied twice: index, then index ⊕ seed), 24 bits per value. tfjs's
 * `randomUniform` draws in JavaScript and uploads the values: a training step's dropout masks (activation-sized)
 * would cross to the GPU every step. Deterministic for a seed; not the same stream as the CPU's seedrandom.
 */
const RANDOM = /* wgsl */ `
struct U { size: u32, seedLo: u32, seedHi: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> u: U;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = ${flatIndex};
  if (i >= u.size) { return; }
  let h = pcg(pcg(i ^ pcg(u.seedHi)) ^ u.seedLo);
  out[i] = f32(h >> 8u) / 16777216.0;
}
`;

export const webgpuRandomKernel: tf.KernelConfig = {
  kernelName: 'CvRandomUniform',
  backendName: 'webgpu',
  kernelFunc: ({ attrs, backend }) => {
    const { shape, seed } = attrs as unknown as { shape: number[]; seed: number };
    const n = shape.reduce((a, b) => a * b, 1);
    const s = Math.abs(Math.trunc(seed));
    return dispatch(backend as unknown as WebgpuBackend, {
      code: RANDOM,
      inputs: [],
      outputs: [{ shape, dtype: 'float32' }],
      uniforms: uniformBlock([{ u32: [n, s >>> 0, Math.floor(s / 2 ** 32) >>> 0] }]),
      workgroups: grid1d(n),
    })[0];
  },
};
