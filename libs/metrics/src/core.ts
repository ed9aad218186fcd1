/** The metrics' browser-safe entry (`@cv/metrics/core`): the computations, without the report writers and plots (fs, sharp). */
export * from './classification';
export * from './generative';
export * from './segmentation';
