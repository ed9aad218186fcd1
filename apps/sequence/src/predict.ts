import { runMode } from '@cv/engine';
import { sequence } from '@cv/tasks-sequence';

runMode(sequence, 'predict');
