import { runMode } from '@cv/engine';
import { segment } from '@cv/tasks-segment';

runMode(segment, 'export');
