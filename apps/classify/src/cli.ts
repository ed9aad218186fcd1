import { runCli as runEngineCli } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';

/** The engine's CLI runner with the classification app's custom layers registered. */
export const runCli: typeof runEngineCli = (main, help) => runEngineCli(main, help, registerRegularizationLayers);
