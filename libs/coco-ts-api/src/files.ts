/** Reading COCO files from disk with clear errors (Node). */
import fs from 'node:fs';
import { COCO, CocoError, type CocoDataset, type CocoResult } from './coco';

function readJson(file: string, what: string): unknown {
  if (!fs.existsSync(file)) throw new CocoError(`${what} file '${file}' does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CocoError(`${what} file '${file}' is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Loads a COCO ground-truth file.
 *
 * @example
 * const gt = loadCocoFile('instances_val.json');
 */
export function loadCocoFile(file: string): COCO {
  const data = readJson(file, 'ground-truth');
  if (!data || typeof data !== 'object' || Array.isArray(data))
    throw new CocoError(`ground-truth file '${file}' must hold a COCO object {images, annotations, categories}`);
  return new COCO(data as CocoDataset);
}

/** Loads a results file (a JSON list of detections) as pycocotools' loadRes does. */
export function loadResultsFile(gt: COCO, file: string): COCO {
  const data = readJson(file, 'results');
  if (!Array.isArray(data)) throw new CocoError(`results file '${file}' must hold a JSON list of detections`);
  return gt.loadRes(data as CocoResult[]);
}
