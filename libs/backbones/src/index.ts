export * from './types';
export * from './registry';
export * from './freeze';
export * from './weights';
export { convUnit, cspBlock, depthwiseUnit, type Activation } from './blocks';
