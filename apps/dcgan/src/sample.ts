import { runCli } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { DcganSampleSchema, runSampling } from '@cv/tasks-dcgan';

runCli(
  async (argv) => {
    await runSampling(argv);
  },
  {
    schema: DcganSampleSchema,
    usage:
      'usage: nx run dcgan:sample -- --model <runDir|generatorDir> --n 64 --out grid.png [--class 7] [--interpolate] [--eval-classifier models/classify/mnist --json]',
  },
  registerRegularizationLayers,
);
