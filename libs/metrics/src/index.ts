export * from './classification';
export * from './report';
export * from './plots';
export * from './generative';
export * from './segmentation';
