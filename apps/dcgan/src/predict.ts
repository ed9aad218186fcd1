import { queueModes } from '@cv/distributed';
import { runMode } from '@cv/engine';
import { dcgan } from '@cv/tasks-dcgan';

runMode(dcgan, 'predict', queueModes); // --queue redis://…: shards on worker:start processes
