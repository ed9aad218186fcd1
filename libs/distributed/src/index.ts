export * from './redis';
export * from './store';
export * from './jobs';
export * from './worker';
export * from './producer';
export * from './local-redis';
