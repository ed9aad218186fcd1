import { trainCommand } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { dcganTask } from '@cv/tasks-dcgan';

// Classifier layers are registered so any classify model can judge samples.
trainCommand(
  dcganTask,
  'usage: nx run dcgan:train -- [--dataset mnist] [--epochs N] [--out runs/dcgan/exp] [--resume <runDir>] [--key=value ...]',
  registerRegularizationLayers,
);
