export * from './backend';
export * from './rng';
export * from './layers';
export { registerWasmTrainingKernels } from './kernels/register';
