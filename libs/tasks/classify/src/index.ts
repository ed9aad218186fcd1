export * from './models';
export * from './config';
export * from './task';
export * from './predictor';
