import { runCli } from '@cv/engine';
import { DetectConvertSchema, runDetectConvert } from '@cv/tasks-detect';

runCli(runDetectConvert, { schema: DetectConvertSchema, usage: 'usage: nx run detect:convert -- --from coco|yolo --data <file> --out <path> [--split train]' });
