export * from './types';
export * from './registry';
export * from './freeze';
export * from './weights';
