/**
 * npx nx run coco-ts-api:eval -- --gt gt.json --dt dt.json --iou bbox|segm|keypoints [--img-ids 3,1,2] [--kpt-sigmas s1,..]
 *   [--cat-ids 4,1] [--max-dets 1,10,100] [--use-cats 0] [--workers N] [--json out.json]
 *
 * --workers N evaluates and accumulates N blocks of categories (images, with --use-cats 0) in N threads (this one included): the same
 * numbers as one thread, bit for bit.
 *
 * Prints pycocotools' 12 summary lines and a per-category table; --json writes
 * {stats, perCategory: [{categoryId, ap, ap50, ap75, ar}], extended (see extended.ts; null with --workers > 1),
 * seconds: {load, evaluate, accumulate, extended}}.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { COCOeval } from './eval';
import { evaluateInWorkers, loadCocoFile, loadResultsFile } from './node';
import { IOU_TYPES, type IouType } from './params';
import { ERROR_KINDS, type ExtendedMetrics, extendedMetrics } from './extended';

class UsageError extends Error {}

function idList(flag: string, value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!ids.length || ids.some((n) => !Number.isInteger(n))) throw new UsageError(`--${flag} takes comma-separated integers, got '${value}'`);
  return ids;
}

const fmt = (v: number) => (v < 0 ? '   -1' : v.toFixed(3));

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        gt: { type: 'string' },
        dt: { type: 'string' },
        iou: { type: 'string' },
        'img-ids': { type: 'string' },
        'cat-ids': { type: 'string' },
        'max-dets': { type: 'string' },
        'use-cats': { type: 'string' },
        'kpt-sigmas': { type: 'string' },
        workers: { type: 'string' },
        json: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new UsageError(
      `${(e as Error).message.split('\n')[0]}; usage: --gt gt.json --dt dt.json --iou bbox|segm|keypoints [--img-ids ..] [--cat-ids ..] [--max-dets ..] [--use-cats 0|1] [--kpt-sigmas s1,s2,..] [--workers N] [--json out.json]`,
    );
  }
  if (!values.gt || !values.dt) throw new UsageError('--gt and --dt are required (COCO ground truth and a results list)');
  const iouType = values.iou ?? 'bbox';
  if (!IOU_TYPES.includes(iouType as IouType)) throw new UsageError(`--iou must be one of ${IOU_TYPES.join(', ')}, got '${iouType}'`);
  if (values['use-cats'] !== undefined && !['0', '1'].includes(values['use-cats'])) throw new UsageError(`--use-cats takes 0 or 1`);
  let sigmas: number[] | undefined;
  if (values['kpt-sigmas'] !== undefined) {
    if (iouType !== 'keypoints') throw new UsageError('--kpt-sigmas applies to --iou keypoints only');
    sigmas = values['kpt-sigmas'].split(',').map((v) => Number(v.trim()));
    if (sigmas.some((v) => !(Number.isFinite(v) && v > 0)))
      throw new UsageError(`--kpt-sigmas takes comma-separated positive numbers, one per keypoint (COCO's 17: 0.026,0.025,...), got '${values['kpt-sigmas']}'`);
  }
  const workers = values.workers === undefined ? 1 : Number(values.workers);
  if (!(Number.isInteger(workers) && workers >= 1)) throw new UsageError(`--workers takes a whole number ≥ 1, got '${values.workers}'`);

  let t0 = performance.now();
  console.log('loading annotations into memory...');
  const gt = loadCocoFile(values.gt);
  console.log('Loading and preparing results...');
  const dt = loadResultsFile(gt, values.dt);
  const load = (performance.now() - t0) / 1000;
  console.log(`DONE (t=${load.toFixed(2)}s)`);

  let E = new COCOeval(gt, dt, iouType);
  const imgIds = idList('img-ids', values['img-ids']);
  const catIds = idList('cat-ids', values['cat-ids']);
  const maxDets = idList('max-dets', values['max-dets']);
  if (imgIds) E.params.imgIds = imgIds;
  if (catIds) E.params.catIds = catIds;
  if (maxDets) E.params.maxDets = maxDets;
  if (values['use-cats'] !== undefined) E.params.useCats = Number(values['use-cats']) as 0 | 1;
  if (sigmas) E.params.kpt_oks_sigmas = sigmas;

  console.log('Running per image evaluation...');
  console.log(`Evaluate annotation type *${iouType}*`);
  t0 = performance.now();
  if (workers > 1) {
    const { catIds: c, maxDets: m, useCats, kpt_oks_sigmas } = E.params;
    E = await evaluateInWorkers(
      { gt: values.gt, dt: values.dt, iouType: iouType as IouType, params: { catIds: c, maxDets: m, useCats, kpt_oks_sigmas }, imgIds: E.params.imgIds },
      workers,
      { gt, dt },
    );
  } else E.evaluate();
  const evaluate = (performance.now() - t0) / 1000;
  console.log(`DONE (t=${evaluate.toFixed(2)}s).`);
  console.log('Accumulating evaluation results...');
  t0 = performance.now();
  E.accumulate();
  const accumulate = (performance.now() - t0) / 1000;
  console.log(`DONE (t=${accumulate.toFixed(2)}s).`);
  const stats = E.summarize();

  const perCategory = E.perCategory();
  const name = (id: number) => (id === -1 ? '(all, useCats=0)' : (gt.cats.get(id)?.name ?? String(id)));
  const width = Math.max(8, ...perCategory.map((c) => name(c.categoryId).length));
  console.log('');
  console.log(`${'category'.padEnd(width)}     id     AP   AP50   AP75     AR`);
  for (const c of perCategory) {
    console.log(`${name(c.categoryId).padEnd(width)} ${String(c.categoryId).padStart(6)}  ${fmt(c.ap)}  ${fmt(c.ap50)}  ${fmt(c.ap75)}  ${fmt(c.ar)}`);
  }
  // The analysis beyond the 12 numbers reads the per-image entries, which one thread (or image shards) keeps.
  let extended: ExtendedMetrics | null = null;
  let extendedSeconds = 0;
  if (workers === 1) {
    t0 = performance.now();
    extended = extendedMetrics(E);
    extendedSeconds = (performance.now() - t0) / 1000;
    const m = extended;
    console.log(
      `\nat confidence ≥ ${m.bestConfidence.toFixed(2)} (the best macro-F1 at IoU ${m.iouThr.toFixed(2)}): precision ${fmt(m.macro.precision)}, recall ${fmt(m.macro.recall)}, F1 ${fmt(m.macro.f1)} (macro); ${fmt(m.micro.precision)} / ${fmt(m.micro.recall)} / ${fmt(m.micro.f1)} pooled`,
    );
    if (m.errors) {
      console.log(`errors at IoU ${m.iouThr.toFixed(2)} (AP${Math.round(m.iouThr * 100)} ${fmt(m.errors.baseAP)}): count and AP gained when fixed`);
      for (const k of ERROR_KINDS) console.log(`  ${k.padEnd(15)} ${String(m.errors.counts[k]).padStart(7)}  +${fmt(m.errors.apGain[k])}`);
    }
  } else console.log('\n(the extended analysis — F1, curves, error breakdown — needs the per-image entries: run with --workers 1)');
  if (values.json) {
    const out = { stats, perCategory, extended, seconds: { load, evaluate, accumulate, extended: extendedSeconds } };
    fs.mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    const tmp = `${values.json}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify(out, null, 2) + '\n');
    fs.renameSync(tmp, values.json);
    console.log(`\nwrote ${values.json}`);
  }
}

main(process.argv.slice(2).filter((a) => a !== '--')).catch((e) => {
  console.error(`error: ${(e as Error).message}`);
  if (process.env.CV_DEBUG) console.error((e as Error).stack);
  process.exitCode = 1;
});
