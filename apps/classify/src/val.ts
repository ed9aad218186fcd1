import { queueModes } from '@cv/distributed';
import { runMode } from '@cv/engine';
import { classify } from '@cv/tasks-classify';

runMode(classify, 'val', queueModes); // --queue redis://…: shards on worker:start processes
