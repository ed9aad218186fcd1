import * as tf from '@tensorflow/tfjs';
import { installFusedAdam } from '../fused-adam';
import { webgpuAdamKernels } from './adam';
import { conv2dFilterGrad } from './conv2d-filter-grad';
import { installQueueUploads, installUploadCounter, type WebgpuBackend } from './device';
import { broadcastGradients } from './gradients';
import { webgpuLayerKernels } from './batchnorm';
import { webgpuRandomKernel } from './random';

/**
 * The engine's WebGPU kernels over tfjs-backend-webgpu's, as the oneDNN kernels are over wasm's:
 * - Conv2DBackpropFilter: split-K implicit GEMM (`conv2d-filter-grad.ts`) instead of one invocation per weight;
 * - Conv2DBackpropInput: tfjs's own implicit-GEMM program (`WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE` false) instead of
 *   its default per-pixel loop; the forward convolution already is implicit GEMM in tfjs;
 * - Adam as one kernel per variable (`adam.ts`, through `installFusedAdam`);
 * - training BatchNorm (forward and gradient), swish and the moving-average update (`batchnorm.ts`), which
 *   `infer/fused-layers.ts` routes BatchNormalization / swish layers through (the caller installs that);
 * - uniform random values made on the device (`random.ts`: SeededDropout's masks; tfjs draws them in JavaScript);
 * - uploads through `queue.writeBuffer`, each JavaScript number once (`installQueueUploads`), and tfjs submits
 *   every 64 dispatches, not 15;
 * - the gradients of Sum and Mean as broadcasts (`gradients.ts`: tfjs uploads an activation-sized array of ones).
 * Returns whether the webgpu backend exists. Idempotent; each replaced kernel keeps tfjs's for the cases it does not take. `CV_WEBGPU_SKIP` (comma-separated:
 * Conv2DBackpropFilter, Conv2DBackpropInput, Adam, layers, random, uploads, submit, gradients) leaves parts out, to compare with tfjs's own.
 */
const MARK = Symbol.for('cv.engine.webgpuKernel');
type Marked = tf.KernelConfig & { [MARK]?: true };

export function registerWebgpuKernels(skip: string[] = (globalThis.process?.env?.CV_WEBGPU_SKIP ?? '').split(',')): boolean {
  const backend = tf.findBackend('webgpu') as unknown as WebgpuBackend | null;
  if (!backend) return false;
  if (!skip.includes('uploads')) installQueueUploads(backend);
  else installUploadCounter(backend);
  if (!skip.includes('Conv2DBackpropInput')) tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
  if (!skip.includes('submit')) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 64);
  if (!skip.includes('gradients')) for (const config of broadcastGradients) tf.registerGradient(config);
  const builtin = tf.getKernel('Conv2DBackpropFilter', 'webgpu') as Marked | undefined;
  if (builtin && !builtin[MARK] && !skip.includes('Conv2DBackpropFilter')) {
    const config: Marked = {
      ...builtin,
      kernelFunc: (args) => {
        const { x, dy } = args.inputs as Record<string, tf.TensorInfo>;
        return conv2dFilterGrad(args.backend as unknown as WebgpuBackend, x, dy, args.attrs ?? {}) ?? builtin.kernelFunc(args);
      },
    };
    config[MARK] = true;
    tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
    tf.registerKernel(config);
  }
  const fused = [
    ...(skip.includes('Adam') ? [] : webgpuAdamKernels),
    ...(skip.includes('layers') ? [] : webgpuLayerKernels),
    ...(skip.includes('random') ? [] : [webgpuRandomKernel]),
  ];
  for (const config of fused) if (!tf.getKernel(config.kernelName, 'webgpu')) tf.registerKernel(config);
  installFusedAdam();
  return true;
}
