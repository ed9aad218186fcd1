import { trainCommand } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { classifyTask } from '@cv/tasks-classify';

trainCommand(classifyTask, 'usage: nx run classify:train -- [--config file.json] [--key=value ...]', registerRegularizationLayers);
