import * as tf from '@tensorflow/tfjs';

type Attrs = Record<string, unknown>;
type TensorMap = Record<string, tf.Tensor>;

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * Wraps a function of tfjs ops as a kernel for `backendName`. The ops run on that same backend (so wasm
 * kernels are composed of wasm's own XNNPACK/matmul kernels, with no per-element JS loops). Intermediates
 * are disposed; the result's buffer is handed to the engine with one extra reference, as tfjs's own
 * Identity/Reshape kernels do.
 */
export function compositeKernel(kernelName: string, backendName: string, fn: (inputs: TensorMap, attrs: Attrs) => tf.Tensor): tf.KernelConfig {
  return {
    kernelName,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const created: tf.Tensor[] = [];
      const tensors: TensorMap = {};
      for (const [key, info] of Object.entries(inputs)) {
        if (info == null) continue;
        if (info instanceof tf.Tensor) tensors[key] = info;
        else {
          const t = tf.engine().makeTensorFromTensorInfo(info);
          created.push(t);
          tensors[key] = t;
        }
      }
      const out = tf.tidy(() => fn(tensors, (attrs ?? {}) as Attrs));
      (backend as unknown as RefCountingBackend).incRef(out.dataId);
      const result = { dataId: out.dataId, shape: out.shape, dtype: out.dtype };
      out.dispose();
      created.forEach((t) => t.dispose());
      return result;
    },
  };
}
