import { trainCommand } from '@cv/engine';
import { detectTask } from '@cv/tasks-detect';

trainCommand(
  detectTask,
  'usage: nx run detect:train -- --data <annotations.json> [--images <dir>] [--val-data <json>] [--model yolo-n] [--epochs N | --time <min>] [--out <runDir>]',
);
