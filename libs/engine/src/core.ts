/**
 * The engine's browser-safe entry (`@cv/engine/core`): no Node built-ins, no fs, no worker_threads, no
 * progress bars. Predictors, preprocessing, seeded layers and the optimisation step's helpers run in a
 * browser bundle as they do in Node; training jobs, checkpoints and native kernels are in `@cv/engine`.
 */
export * from './infer/rng';
export * from './infer/layers';
export * from './infer/preprocess';
export * from './infer/resample';
export * from './infer/predictor';
export * from './infer/readback';
export {
  addMany,
  decoupledWeightDecay,
  endsAccumulation,
  globalNorm,
  isDecayed,
  OptimizationStep,
  type OptimizationStepOptions,
  type ParamGroup,
} from './train/optim';
export { registerWasmTrainingKernels } from './kernels/register';
export { registerWebgpuKernels } from './kernels/webgpu/register';
export type { Logs, StepContext, TrainTask } from './train/types';
export { fuseForInference } from './infer/fuse';
export { nativeImageOps, setNativeImageOps, type NativeImageOps } from './kernels/image-ops';
export { resolvePrecision, withTrainingPrecision, trainingPrecision, type Precision } from './kernels/precision';
