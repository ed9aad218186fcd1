export * from './models';
export * from './step';
export * from './config';
export * from './evaluate';
export * from './sampling';
export * from './predictor';
export * from './definition';
export * from './commands';
