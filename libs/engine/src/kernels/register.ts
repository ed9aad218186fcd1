import * as tf from '@tensorflow/tfjs';
import { compositeKernel } from './composite';
import { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-grads';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './depthwise-grads';
import { explicitTransposeBatchMatMul } from './matmul';
import { maxPoolGrad } from './maxpool-grad';
import { broadcastTile, isBroadcastTile, leadingAxes, leadingAxesSum } from './reduce';
import { heapViewSlice } from './slice';

/**
 * Kernels the engine provides for the wasm backend. The depthwise gradients and Conv2DBackpropFilter
 * are missing from tfjs-backend-wasm (so CNNs cannot train on it as shipped); Conv2DBackpropInput and
 * MaxPoolGrad replace wasm's per-element loops with its own vectorised kernels.
 */
export const WASM_TRAINING_KERNELS: tf.KernelConfig[] = [
  compositeKernel('Conv2DBackpropFilter', 'wasm', conv2DBackpropFilter),
  compositeKernel('Conv2DBackpropInput', 'wasm', conv2DBackpropInput),
  compositeKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm', depthwiseBackpropFilter),
  compositeKernel('DepthwiseConv2dNativeBackpropInput', 'wasm', depthwiseBackpropInput),
  compositeKernel('MaxPoolGrad', 'wasm', maxPoolGrad),
];

const REGISTERED = Symbol.for('cv.engine.wasmKernel');
type Marked = tf.KernelConfig & { [REGISTERED]?: true };

function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  (config as Marked)[REGISTERED] = true;
  tf.registerKernel(config);
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
  const tile = tf.getKernel('Tile', 'wasm');
  if (tile) {
    const fast = compositeKernel('Tile', 'wasm', broadcastTile);
    replace({
      ...tile,
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        const applies = (x.dtype === 'float32' || x.dtype === 'int32') && isBroadcastTile(x.shape, (args.attrs as { reps: number[] }).reps);
        return applies ? fast.kernelFunc(args) : tile.kernelFunc(args);
      },
    });
  }
  const slice = tf.getKernel('Slice', 'wasm');
  if (slice) replace(heapViewSlice(slice));
  const sum = tf.getKernel('Sum', 'wasm');
  if (sum) {
    const fast = compositeKernel('Sum', 'wasm', leadingAxesSum);
    replace({
      ...sum,
      kernelFunc: (args) => {
        const x = args.inputs.x as tf.TensorInfo;
        const applies = x.dtype === 'float32' && leadingAxes(x.shape, (args.attrs as { axis: number | number[] }).axis) !== null;
        return applies ? fast.kernelFunc(args) : sum.kernelFunc(args);
      },
    });
  }
}
