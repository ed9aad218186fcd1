import { trainCommand } from '@cv/engine';
import { registerSequenceLayers, sequenceTask } from '@cv/tasks-sequence';

trainCommand(
  sequenceTask,
  'usage: nx run sequence:train -- --dataset mnist-rows|mnist-pixels|<csv> --model conv1d|tcn --epochs N --out <runDir>',
  registerSequenceLayers,
);
