export * from './types';
export * from './registry';
export * from './freeze';
export * from './weights';
export { convUnit, cspBlock, type Activation } from './blocks';
