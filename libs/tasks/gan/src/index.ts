export * from './models';
export * from './task';
export * from './config';
export * from './evaluate';
export * from './sampling';
export * from './predictor';
export * from './train';
export * from './commands';
