import { runMode } from '@cv/engine';
import { classify } from '@cv/tasks-classify';

runMode(classify, 'train');
