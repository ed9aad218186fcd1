import { DcganTrainSchema } from '@cv/tasks-gan';
import { runCli } from './cli';
import { runDcganTraining } from './train-run';

runCli(async (argv) => {
  await runDcganTraining(argv);
}, { schema: DcganTrainSchema, usage: 'usage: nx run dcgan:train -- [--dataset mnist] [--epochs N] [--out runs/dcgan/exp] [--resume <runDir>] [--key=value ...]' });
