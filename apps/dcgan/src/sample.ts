import { DcganSampleSchema } from '@cv/tasks-gan';
import { runCli } from './cli';
import { runSampling } from './sample-run';

runCli(async (argv) => {
  await runSampling(argv);
}, { schema: DcganSampleSchema, usage: 'usage: nx run dcgan:sample -- --model <runDir|generatorDir> --n 64 --out grid.png [--class 7] [--interpolate] [--eval-classifier models/classify/mnist --json]' });
