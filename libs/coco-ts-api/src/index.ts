/** coco-ts-api core: pure TypeScript, no Node-only imports (file loading lives in `coco-ts-api/node`). */
export * from './coco';
export * from './eval';
export * from './params';
export * from './mask-api';
export { linspace, pairwiseSum, pyFixed } from './numeric';
export * from './shards';
export * from './extended';
