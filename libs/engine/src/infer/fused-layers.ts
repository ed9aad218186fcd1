import { setNativeFusedActivations } from './fuse';
import { setNativeFilterSupport } from '../kernels/precision';
import { setNativeImageOps } from '../kernels/image-ops';
import { compileNativeGraph, NativeGraphModel } from './native-graph';
import { setInferenceGraphCompiler } from './predictor';
import { setPixelWriter, type DecodedImage } from './preprocess';
import * as tf from '@tensorflow/tfjs';
import type { OneDnnAddon } from '../kernels/native/addon';
import { offsetOf, runNative, size, type WasmBackend } from '../kernels/native/heap';
import { BatchNormalizationBase } from './layers';
import { actFusionOf, installActFusion, markActivated, uninstallActFusion, type FusedAct } from './act-fusion';
import { registerOneDnnOps, unregisterOneDnnOps } from '../kernels/native/onednn-kernels';
import { installFusedAdam } from '../kernels/fused-adam';

/**
 * Training-mode BatchNormalization, the swish activation and the Adam update as fused kernels: native on the
 * oneDNN path (registered here for wasm), WGSL on WebGPU (`kernels/webgpu/batchnorm.ts`, `adam.ts`).
 *
 * tfjs-layers trains BatchNormalization through `moments` + `batchNormalization` and their autograd
 * (~25 passes over the activation per layer and step) and swish as mul·sigmoid·mul; on large
 * activations those memory-bound passes cost more than the convolutions. Here each is one custom-gradient
 * op over two native kernels (statistics + normalisation; the gradient through the batch statistics).
 * The layers' own `call` / `apply` are wrapped (`installLayerFusion`) and take the fused path where the current
 * backend registers the kernels (`CvBatchNormTrain`, `CvSwish`, …); everything else (inference, other backends,
 * the browser) runs tfjs's code unchanged, and the moving statistics are updated exactly as tfjs-layers does.
 */

const KERNELS = [
  'CvBatchNormTrain',
  'CvBatchNormTrainGrad',
  'CvBatchNormActTrain',
  'CvBatchNormActTrainGrad',
  'CvSwish',
  'CvSwishGrad',
  'CvAdam',
  'CvAdamMany',
] as const;

/** Activations the native training batch norm applies in its own pass (codes of batchnorm.cc's TrainAct). */
const ACT_CODES: Record<FusedAct, number> = { relu: 1, swish: 2 };

type LayerCall = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];
interface BatchNormLayer {
  axis: number;
  epsilon: number;
  momentum: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}
type SwishApply = (this: unknown, x: tf.Tensor, alpha?: number) => tf.Tensor;

const bnProto = BatchNormalizationBase.prototype as unknown as { call: LayerCall };
const swishProto = Object.getPrototypeOf((tf.layers.activation({ activation: 'swish' }) as unknown as { activation: object }).activation) as {
  apply: SwishApply;
};
const original = { call: bnProto.call, apply: swishProto.apply };
/** Does the current backend run `kernel` (registered by the oneDNN path on wasm, by the WGSL kernels on webgpu)? */
const fusedOn = (x: tf.Tensor, kernel: string) => x.dtype === 'float32' && tf.getKernel(kernel, tf.getBackend()) != null;

function kernelConfigs(addon: OneDnnAddon): tf.KernelConfig[] {
  const wb = (backend: unknown) => backend as WasmBackend;
  return [
    ...[false, true].flatMap((withAct): tf.KernelConfig[] => [
      {
        // y = act(batchnorm(x)) with the batch statistics; without an activation, batchnorm(x)
        kernelName: withAct ? 'CvBatchNormActTrain' : 'CvBatchNormTrain',
        backendName: 'wasm',
        kernelFunc: ({ inputs, attrs, backend }) => {
          const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
          const b = wb(backend);
          const c = x.shape[x.shape.length - 1];
          const act = withAct ? [ACT_CODES[attrs!.act as FusedAct]] : [];
          return runNative(b, [x.shape, [c], [c]], (heap, [y, mean, variance]) =>
            addon.batchNormTrain(
              heap,
              Int32Array.from([size(x.shape) / c, c, ...[x, gamma, beta, y, mean, variance].map((t) => offsetOf(b, t)), ...act]),
              Number(attrs!.epsilon),
            ),
          )!;
        },
      },
      {
        // dx, dγ, dβ (through the activation first, z recomputed from x, γ, β and the statistics)
        kernelName: withAct ? 'CvBatchNormActTrainGrad' : 'CvBatchNormTrainGrad',
        backendName: 'wasm',
        kernelFunc: ({ inputs, attrs, backend }) => {
          const { dy, x, mean, variance, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
          const b = wb(backend);
          const c = x.shape[x.shape.length - 1];
          const act = withAct ? [ACT_CODES[attrs!.act as FusedAct], offsetOf(b, beta)] : [];
          return runNative(b, [x.shape, [c], [c]], (heap, [dx, dgamma, dbeta]) =>
            addon.batchNormTrainGrad(
              heap,
              Int32Array.from([size(x.shape) / c, c, ...[dy, x, mean, variance, gamma, dx, dgamma, dbeta].map((t) => offsetOf(b, t)), ...act]),
              Number(attrs!.epsilon),
            ),
          )!;
        },
      },
    ]),
    {
      kernelName: 'CvAdam',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const { value, gradient, m, v } = inputs as Record<string, tf.TensorInfo>;
        const b = wb(backend);
        const f = new Float32Array(['lr', 'beta1', 'beta2', 'epsilon', 'c1', 'c2'].map((k) => Number(attrs![k])));
        return runNative(b, [value.shape, value.shape, value.shape], (heap, [value2, m2, v2]) =>
          addon.adam(
            heap,
            Int32Array.from([
              size(value.shape),
              offsetOf(b, value),
              offsetOf(b, gradient),
              offsetOf(b, m),
              offsetOf(b, v),
              offsetOf(b, value2),
              offsetOf(b, m2),
              offsetOf(b, v2),
              ...new Int32Array(f.buffer),
            ]),
          ),
        )!;
      },
    },
    {
      // Adam for every variable of a step in one native call (inputs value0, gradient0, m0, v0, …; outputs
      // value', m', v' per variable), the gradients multiplied by `gradScale` first (clipping; 1 = none).
      kernelName: 'CvAdamMany',
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const n = Object.keys(inputs).length / 4;
        const b = wb(backend);
        const ins = Array.from({ length: n }, (_, i) => ['value', 'gradient', 'm', 'v'].map((k) => (inputs as Record<string, tf.TensorInfo>)[`${k}${i}`]));
        const f = new Float32Array(['lr', 'beta1', 'beta2', 'epsilon', 'c1', 'c2', 'gradScale'].map((k) => Number(attrs![k] ?? 1)));
        return runNative(
          b,
          ins.flatMap(([value]) => [value.shape, value.shape, value.shape]),
          (heap, outs) =>
            addon.adamMany!(
              heap,
              Int32Array.from([
                n,
                ...new Int32Array(f.buffer),
                ...ins.flatMap((t, i) => [size(t[0].shape), ...t.map((x) => offsetOf(b, x)), ...outs.slice(3 * i, 3 * i + 3).map((o) => offsetOf(b, o))]),
              ]),
            ),
        )!;
      },
    },
    {
      kernelName: 'CvSwish',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const x = inputs.x as tf.TensorInfo;
        const b = wb(backend);
        return runNative(b, [x.shape], (heap, [y]) => addon.swish(heap, Int32Array.from([size(x.shape), offsetOf(b, x), offsetOf(b, y)])))![0];
      },
    },
    {
      kernelName: 'CvSwishGrad',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const { dy, x } = inputs as Record<string, tf.TensorInfo>;
        const b = wb(backend);
        return runNative(b, [x.shape], (heap, [dx]) =>
          addon.swishGrad(heap, Int32Array.from([size(x.shape), offsetOf(b, dy), offsetOf(b, x), offsetOf(b, dx)])),
        )![0];
      },
    },
  ];
}

/**
 * Batch-normalises `x` over all axes but the last with batch statistics; returns y and the batch mean and
 * variance (kept: the caller disposes them).
 */
function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number, act?: FusedAct): [tf.Tensor, tf.Tensor, tf.Tensor] {
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad((xi, g, bt, save) => {
    const inputs = { x: xi as tf.Tensor, gamma: g as tf.Tensor, beta: bt as tf.Tensor };
    const [y, mean, variance] = (
      act ? tf.engine().runKernel('CvBatchNormActTrain', inputs, { epsilon, act }) : tf.engine().runKernel('CvBatchNormTrain', inputs, { epsilon })
    ) as tf.Tensor[];
    stats = [tf.keep(mean), tf.keep(variance)]; // customGrad runs f in a tidy; the caller disposes these
    (save as (ts: tf.Tensor[]) => void)([xi as tf.Tensor, g as tf.Tensor, mean, variance, ...(act ? [bt as tf.Tensor] : [])]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sg, sm, sv, sb] = saved;
        const grads = { dy: dy as tf.Tensor, x: sx, mean: sm, variance: sv, gamma: sg };
        return (
          act
            ? tf.engine().runKernel('CvBatchNormActTrainGrad', { ...grads, beta: sb }, { epsilon, act })
            : tf.engine().runKernel('CvBatchNormTrainGrad', grads, { epsilon })
        ) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  return [y, stats[0], stats[1]];
}

const swishOp = tf.customGrad((x, save) => {
  (save as (ts: tf.Tensor[]) => void)([x as tf.Tensor]);
  return {
    value: tf.engine().runKernel('CvSwish', { x: x as tf.Tensor }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [sx]: tf.Tensor[]) => tf.engine().runKernel('CvSwishGrad', { dy: dy as tf.Tensor, x: sx }) as tf.Tensor,
  };
});

/** BatchNormalization.call with the fused training path (inference and other layouts: tfjs's call). */
const fusedCall: LayerCall = function (this: BatchNormLayer, inputs, kwargs) {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  const ndim = x.shape.length;
  const lastAxis = this.axis === -1 || this.axis === ndim - 1;
  if (!kwargs.training || !fusedOn(x, 'CvBatchNormTrain') || !fusedOn(x, 'CvMovingAverage') || !lastAxis || !this.gamma || !this.beta || ndim < 2)
    return original.call.call(this, inputs, kwargs);
  const fused = actFusionOf(this as unknown as tf.layers.Layer);
  const act = fused && fusedOn(x, 'CvBatchNormActTrain') ? fused.act : undefined;
  const out = tf.tidy(() => {
    const [y, mean, variance] = batchNormTrain(x, this.gamma!.read(), this.beta!.read(), this.epsilon, act);
    for (const [moving, value] of [
      [this.movingMean, mean],
      [this.movingVariance, variance],
    ] as const) {
      // as tfjs-layers: moving − (moving − value)·(1 − momentum), the same float32 roundings, one kernel
      moving.write(tf.engine().runKernel('CvMovingAverage', { moving: moving.read(), value }, { momentum: this.momentum }) as tf.Tensor);
    }
    tf.dispose([mean, variance]);
    return y;
  });
  if (act) markActivated(out, fused!.consumer);
  return out;
};

const fusedSwish: SwishApply = function (this: unknown, x, alpha = 1) {
  return alpha === 1 && fusedOn(x, 'CvSwish') ? swishOp(x) : original.apply.call(this, x, alpha);
};

/** A batch of images at the input size as one float tensor of bytes / 255, written in place on the wasm heap. */
function writePixels(addon: OneDnnAddon, images: DecodedImage[], shape: [number, number, number, number]): tf.Tensor4D | null {
  if (tf.getBackend() !== 'wasm') return null;
  const b = tf.backend() as unknown as WasmBackend;
  const out = b.makeOutput(shape, 'float32');
  const heap = b.wasm.HEAPU8.buffer; // after allocating: allocation can grow (replace) the buffer
  const at = offsetOf(b, out);
  const per = shape[1] * shape[2] * shape[3];
  images.forEach((img, i) => addon.pixelsToUnit!(heap, img.data, at + i * per));
  return tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor4D;
}

/** Registers the fused kernels and wraps BatchNormalization / swish / Adam (idempotent). */
export function installFusedLayers(addon: OneDnnAddon, skip: string[] = []): void {
  for (const name of KERNELS) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  for (const config of kernelConfigs(addon)) {
    if (skip.includes('bn-act') && config.kernelName.startsWith('CvBatchNormAct')) continue; // batch norm and activation as two ops
    if (config.kernelName === 'CvAdamMany' && (skip.includes('CvAdamMany') || typeof addon.adamMany !== 'function')) continue; // Adam per variable
    tf.registerKernel(config);
  }
  installLayerFusion();
}

/**
 * Wraps BatchNormalization.call, swish and AdamOptimizer so that each takes its fused kernel where the current
 * backend has one (idempotent). The WebGPU backend calls it after registering its kernels.
 */
export function installLayerFusion(): void {
  bnProto.call = fusedCall;
  swishProto.apply = fusedSwish;
  installActFusion();
  installFusedAdam(); // uses CvAdam where the backend has it
}

/** Puts tfjs-layers' own BatchNormalization.call and swish back. */
export function uninstallFusedLayers(): void {
  bnProto.call = original.call;
  swishProto.apply = original.apply;
  uninstallActFusion();
  for (const name of KERNELS) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
}

/**
 * Registers the oneDNN kernels over the wasm backend's current ones (call after the engine's composed wasm
 * kernels are registered), then the fused BatchNorm / swish / Adam layers over them; each kernel keeps the previous
 * one for the cases oneDNN does not take. Idempotent. `CV_ONEDNN_SKIP=Conv2D,Sum,fused-layers,bn-act,graph,image` leaves those out (`bn-act`: batch norm and its activation as
 * two training ops; `graph`: the inference graph runner; `image`: the native augmentation of `@cv/data`).
 *
 * @example
 * const loaded = loadOneDnnAddon();
 * if ('addon' in loaded) registerOneDnnKernels(loaded.addon);
 */
export function registerOneDnnKernels(addon: OneDnnAddon, skip: string[] = (process.env.CV_ONEDNN_SKIP ?? '').split(',')): void {
  registerOneDnnOps(addon, skip);
  if (!skip.includes('fused-layers')) installFusedLayers(addon, skip);
  setNativeFusedActivations(skip.includes('FusedConv2D') ? [] : ['swish']);
  const nativeConv = !skip.includes('FusedConv2D') && typeof addon.releaseFilter === 'function';
  setNativeFilterSupport(nativeConv ? { release: (key) => addon.releaseFilter!(key), fastBf16: addon.fastBf16?.() ?? false } : null);
  setPixelWriter(typeof addon.pixelsToUnit === 'function' ? (images, shape) => writePixels(addon, images, shape) : null);
  const { warpAffine, flipX, hsvJitter, bytesToUnit } = addon;
  setNativeImageOps(
    warpAffine && flipX && hsvJitter && bytesToUnit && !skip.includes('image')
      ? { warpAffine: warpAffine.bind(addon), flipX: flipX.bind(addon), hsvJitter: hsvJitter.bind(addon), bytesToUnit: bytesToUnit.bind(addon) }
      : null,
  );
  setInferenceGraphCompiler(
    skip.includes('graph')
      ? null
      : (model) => {
          const compiled = tf.getBackend() === 'wasm' ? compileNativeGraph(addon, model) : null;
          return compiled instanceof NativeGraphModel ? compiled : null;
        },
  );
}

/** Puts back the kernels and layers that `registerOneDnnKernels` wrapped (pure wasm again). */
export function unregisterOneDnnKernels(): void {
  setPixelWriter(null);
  setNativeImageOps(null);
  setInferenceGraphCompiler(null);
  setNativeFusedActivations([]);
  setNativeFilterSupport(null);
  uninstallFusedLayers();
  unregisterOneDnnOps();
}
