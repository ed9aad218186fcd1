import { runCli as runEngineCli } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';

/** The engine's CLI runner; classifier layers are registered so any classify model can judge samples. */
export const runCli: typeof runEngineCli = (main, help) => runEngineCli(main, help, registerRegularizationLayers);
