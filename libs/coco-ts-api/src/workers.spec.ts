/**
 * Worker-thread evaluation gives one thread's numbers bit for bit, split by categories (evaluate + accumulate
 * per thread) and by images (shards merged), on the shared pycocotools reference cases.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COCOeval } from './eval';
import { loadCocoFile, loadResultsFile } from './files';
import { evaluateInWorkers } from './workers';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');

describe.each(['bbox_basic', 'segm_basic'])('evaluation in 3 threads, case %s', (name) => {
  const files = { gt: path.join(fixtures, `${name}.gt.json`), dt: path.join(fixtures, `${name}.dt.json`) };
  const iouType = name.startsWith('segm') ? 'segm' : 'bbox';
  const gt = loadCocoFile(files.gt);
  const one = new COCOeval(gt, loadResultsFile(gt, files.dt), iouType);
  one.evaluate();
  const expected = one.accumulate();
  const stats = one.summarize(() => {});

  it.each(['categories', 'images'] as const)(
    'split by %s: bit-equal precision, recall, scores and stats',
    async (split) => {
      const E = await evaluateInWorkers({ ...files, iouType, params: {}, split }, 3);
      const r = E.accumulate();
      expect(r.counts).toEqual(expected.counts);
      for (const key of ['precision', 'recall', 'scores'] as const)
        expect(Buffer.from(r[key].buffer, r[key].byteOffset, r[key].byteLength).equals(Buffer.from(expected[key].buffer)), key).toBe(true);
      expect(E.summarize(() => {})).toEqual(stats);
      expect(E.perCategory()).toEqual(one.perCategory());
    },
    60_000,
  );
});
