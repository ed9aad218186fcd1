import * as tf from '@tensorflow/tfjs';
import { compositeKernel } from './composite';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-grads';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-grads';
import { explicitTransposeBatchMatMul } from './matmul';
import { maxPoolGrad } from './maxpool-grad';
import { broadcastTile, isBroadcastTile, leadingAxes, leadingAxesSum } from './reduce';
import { heapViewSlice } from './slice';
import { unsortedSegmentSumWasm } from './segment-sum';
import { sumSquaresWasm } from './sum-squares';
import { emaUpdateWasm } from './ema-update';
import { movingAverageWasm } from './moving-average';

/**
 * Kernels the engine provides for the wasm backend. The depthwise gradients and Conv2DBackpropFilter
 * are missing from tfjs-backend-wasm (so CNNs cannot train on it as shipped), as is UnsortedSegmentSum (the
 * gradient of gather); Conv2DBackpropInput and
 * MaxPoolGrad replace wasm's per-element loops with its own vectorised kernels.
 */
export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  compositeKernel('Conv2DBackpropFilter', 'wasm', conv2DBackpropFilter),
  compositeKernel('Conv2DBackpropInput', 'wasm', conv2DBackpropInput),
  compositeKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm', depthwiseBackpropFilter),
  compositeKernel('DepthwiseConv2dNativeBackpropInput', 'wasm', depthwiseBackpropInput),
  compositeKernel('MaxPoolGrad', 'wasm', maxPoolGrad),
  unsortedSegmentSumWasm,
  sumSquaresWasm,
  emaUpdateWasm,
  movingAverageWasm,
];

const REGISTERED = Symbol.for('cv.engine.wasmKernel');
type Marked = tf.KernelConfig & { [REGISTERED]?: true };

function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  (config as Marked)[REGISTERED] = true;
  tf.registerKernel(config);
}

/**
 * Replaces a built-in wasm kernel by a composed one where `applies(x, attrs)` holds (x = the kernel's
 * input 'x'), keeping the built-in for the other cases.
 */
function withFastPath(kernelName: string, fn: Parameters<typeof compositeKernel>[2], applies: (x: tf.TensorInfo, attrs: Record<string, any>) => boolean): void {
  const builtin = tf.getKernel(kernelName, 'wasm');
  if (!builtin) return;
  const fast = compositeKernel(kernelName, 'wasm', fn);
  replace({
    ...builtin,
    kernelFunc: (args) => (applies(args.inputs.x as tf.TensorInfo, args.attrs ?? {}) ? fast.kernelFunc(args) : builtin.kernelFunc(args)),
  });
}

/**
 * Identity that shares the input's buffer (one more reference), as the cpu backend's does; wasm's own
 * copies it. tfjs clones every tensor it saves for the backward pass, so this is ~70 copies per step of
 * a small CNN. Sharing is safe because no kernel writes into its inputs.
 */
function sharedIdentity(builtin: tf.KernelConfig): tf.KernelConfig {
  return {
    ...builtin,
    kernelFunc: (args) => {
      const x = args.inputs.x as tf.TensorInfo;
      if (x.dtype === 'string') return builtin.kernelFunc(args);
      (args.backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  };
}

/**
 * Registers the engine's wasm training kernels (idempotent; replaces built-ins of the same name).
 *
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * registerWasmTrainingKernels();
 * await tf.setBackend('wasm');
 */
export function registerWasmTrainingKernels(): void {
  const matmul = tf.getKernel('BatchMatMul', 'wasm') as Marked | undefined;
  if (matmul?.[REGISTERED]) return; // already done
  WASM_TRAINING_KERNELS.forEach(replace);
  if (matmul) replace(explicitTransposeBatchMatMul(matmul));
  withFastPath('Tile', broadcastTile, (x, attrs) => (x.dtype === 'float32' || x.dtype === 'int32') && isBroadcastTile(x.shape, attrs.reps));
  withFastPath('Sum', leadingAxesSum, (x, attrs) => x.dtype === 'float32' && leadingAxes(x.shape, attrs.axis) !== null);
  const slice = tf.getKernel('Slice', 'wasm');
  if (slice) replace(heapViewSlice(slice));
  const identity = tf.getKernel('Identity', 'wasm');
  if (identity) replace(sharedIdentity(identity));
}
