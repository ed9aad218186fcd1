import { ClassifyTrainSchema } from '@cv/tasks-classify';
import { runCli } from './cli';
import { runTraining } from './train-run';

runCli(async (argv) => {
  await runTraining(argv);
}, { schema: ClassifyTrainSchema, usage: 'usage: nx run classify:train -- [--config file.json] [--key=value ...]' });
