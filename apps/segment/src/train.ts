import { trainCommand } from '@cv/engine';
import { segmentTask } from '@cv/tasks-segment';

trainCommand(
  segmentTask,
  'usage: nx run segment:train -- --images <dir> --masks <dir> | --data <coco json> [--val-images <dir> --val-masks <dir>] [--model unet-n] [--epochs N | --time <min>] [--out <runDir>]',
);
