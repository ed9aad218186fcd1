/**
 * The core entry must run in a browser: bundle it for the browser platform (esbuild refuses Node
 * built-ins there) and run the bundle in a bare V8 context with no require, process or fs.
 */
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { expect, it } from 'vitest';

it('bundles for the browser and evaluates in a context without Node APIs', async () => {
  const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'index.ts');
  const out = await build({ entryPoints: [entry], bundle: true, platform: 'browser', format: 'iife', globalName: 'cocoTs', write: false, logLevel: 'silent' });
  const code = out.outputFiles[0].text;
  expect(code).not.toMatch(/require\(["']node:|require\(["']fs["']\)/);
  const context = vm.createContext({ console, structuredClone });
  vm.runInContext(
    `${code}
    const gt = new cocoTs.COCO({ images: [{ id: 1, width: 20, height: 20 }], categories: [{ id: 1, name: 'a' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], area: 100, iscrowd: 0 }] });
    const E = new cocoTs.COCOeval(gt, gt.loadRes([{ image_id: 1, category_id: 1, bbox: [0, 0, 10, 10], score: 0.9 }]), 'bbox');
    E.evaluate(); E.accumulate(); globalThis.stats = E.summarize(() => {});
    globalThis.rle = cocoTs.encode(cocoTs.maskFromRows([[0, 1], [1, 1]]));
    globalThis.hasProcess = typeof process !== 'undefined' || typeof require !== 'undefined';`,
    context,
  );
  expect(context.stats[0]).toBeCloseTo(1, 12);
  expect(context.rle).toEqual({ size: [2, 2], counts: '13' }); // column-major: 1 zero, then 3 ones
  expect(context.hasProcess).toBe(false);
});
