/**
 * The engine's browser-safe entry (`@cv/engine/core`): no Node built-ins, no fs, no worker_threads, no
 * progress bars. Predictors, preprocessing, seeded layers and the optimisation step's helpers run in a
 * browser bundle as they do in Node; training jobs, checkpoints and native kernels are in `@cv/engine`.
 */
export * from './rng';
export * from './layers';
export * from './preprocess';
export * from './predictor';
export { decoupledWeightDecay, endsAccumulation, globalNorm, isDecayed, OptimizationStep, type OptimizationStepOptions, type ParamGroup } from './optim';
export { registerWasmTrainingKernels } from './kernels/register';
export type { Logs } from './callbacks';
export type { StepContext } from './trainer';
