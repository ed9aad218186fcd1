export * from './types';
export * from './builtin';
export * from './glyphs';
export * from './image-io';
export * from './image-folder';
export * from './augment';
export * from './loader';
export * from './resolve';
