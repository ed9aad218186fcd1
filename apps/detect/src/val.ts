import { queueModes } from '@cv/distributed';
import { runMode } from '@cv/engine';
import { detect } from '@cv/tasks-detect';

runMode(detect, 'val', queueModes); // --queue redis://…: shards on worker:start processes
