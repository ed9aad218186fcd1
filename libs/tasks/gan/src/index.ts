export * from './models';
export * from './task';
export * from './config';
export * from './evaluate';
