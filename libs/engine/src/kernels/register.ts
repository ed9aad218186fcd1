import * as tf from '@tensorflow/tfjs';
import { compositeKernel } from './composite';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-grads';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-grads';

/**
 * Kernels the engine provides for the wasm backend. The first three are missing from
 * tfjs-backend-wasm (so CNNs cannot train on it as shipped); Conv2DBackpropInput replaces wasm's
 * built-in per-element loop with a forward convolution.
 */
export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  compositeKernel('Conv2DBackpropFilter', 'wasm', conv2DBackpropFilter),
  compositeKernel('Conv2DBackpropInput', 'wasm', conv2DBackpropInput),
  compositeKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm', depthwiseBackpropFilter),
  compositeKernel('DepthwiseConv2dNativeBackpropInput', 'wasm', depthwiseBackpropInput),
];

/**
 * Registers the engine's wasm training kernels (idempotent; replaces a built-in of the same name).
 *
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 */
export function registerWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) tf.unregisterKernel(config.kernelName, 'wasm');
    tf.registerKernel(config);
  }
}
