export * from './layers';
export * from './labels';
export * from './weight-decay';
