import { runCli } from '@cv/engine';
import { ClassifyPredictSchema, runClassifyPredict } from '@cv/tasks-classify';

runCli(runClassifyPredict, { schema: ClassifyPredictSchema, usage: 'usage: nx run classify:predict -- --model <dir> image.png [image2.jpg ...]' });
