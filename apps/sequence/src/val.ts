import { queueModes } from '@cv/distributed';
import { runMode } from '@cv/engine';
import { sequence } from '@cv/tasks-sequence';

runMode(sequence, 'val', queueModes); // --queue redis://…: shards on worker:start processes
