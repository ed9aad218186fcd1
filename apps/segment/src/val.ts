import { queueModes } from '@cv/distributed';
import { runMode } from '@cv/engine';
import { segment } from '@cv/tasks-segment';

runMode(segment, 'val', queueModes); // --queue redis://…: shards on worker:start processes
