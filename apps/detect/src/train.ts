import { runMode } from '@cv/engine';
import { detect } from '@cv/tasks-detect';

runMode(detect, 'train');
