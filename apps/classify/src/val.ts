import { runCli } from '@cv/engine';
import { registerRegularizationLayers } from '@cv/regularization';
import { ClassifyValSchema, runClassifyVal } from '@cv/tasks-classify';

runCli(runClassifyVal, { schema: ClassifyValSchema, usage: 'usage: nx run classify:val -- --run runs/classify/<name>' }, registerRegularizationLayers);
