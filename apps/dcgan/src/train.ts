import { runMode } from '@cv/engine';
import { dcgan } from '@cv/tasks-dcgan';

runMode(dcgan, 'train');
