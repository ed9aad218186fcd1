/**
 * `@cv/engine/testing`: what the suite's specs share — browser-bundle checks (`bundleForBrowser`,
 * `runInBareContext`) and the engine's spec fixtures (a tiny conv net, a task with scripted validation), and `scriptRunner`: the
 * apps' scripts run as a user runs them.
 */
export * from './browser';
export * from './fixtures';
export * from './requirements';
export * from './scripts';
