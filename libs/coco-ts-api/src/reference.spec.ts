/**
 * The shared pycocotools reference cases (fixtures/, produced by pycocotools 2.0.11 itself): every
 * number must agree to 1e-9 and every summary line exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COCO } from './coco';
import { COCOeval, evalRow } from './eval';
import { evaluateShard, mergeShards, packShard, parseShard, serializeShard, unpackShard } from './shards';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const read = (f: string) => JSON.parse(fs.readFileSync(path.join(fixtures, f), 'utf8'));
const cases = fs
  .readdirSync(fixtures)
  .filter((f) => f.endsWith('.expected.json') && f !== 'mask_api.expected.json')
  .map((f) => f.replace('.expected.json', ''));

const TOL = 1e-9;
const rows = (flat: Float64Array | Uint8Array, n: number) => Array.from({ length: 10 }, (_, t) => Array.from(evalRow(flat, t, n)));
const close = (a: number, b: number) => Math.abs(a - b) <= TOL;

function run(name: string) {
  const expected = read(`${name}.expected.json`);
  const gt = new COCO(read(`${name}.gt.json`));
  const E = new COCOeval(gt, gt.loadRes(read(`${name}.dt.json`)), expected.iouType);
  for (const [k, v] of Object.entries(expected.params ?? {})) (E.params as unknown as Record<string, unknown>)[k] = v;
  E.evaluate();
  E.accumulate();
  const lines: string[] = [];
  const stats = E.summarize((l) => lines.push(l));
  return { expected, E, stats, lines };
}

describe.each(cases)('pycocotools reference case %s', (name) => {
  const { expected, E, stats, lines } = run(name);
  const [T, R, K, A, M] = expected.counts;

  it('uses the same effective params (float64 thresholds from np.linspace)', () => {
    const ep = expected.effective_params;
    expect(E.params.imgIds).toEqual(ep.imgIds);
    expect(E.params.catIds).toEqual(ep.catIds);
    expect(E.params.maxDets).toEqual(ep.maxDets);
    expect(E.params.iouThrs).toEqual(ep.iouThrs);
    expect(E.params.recThrs).toEqual(ep.recThrs);
    expect(E.params.areaRng).toEqual(ep.areaRng);
    expect(E.eval!.counts).toEqual(expected.counts);
  });

  it('12 stats within 1e-9 and the same 12 printed lines', () => {
    stats.forEach((s, i) => expect(close(s, expected.stats[i]), `stat ${i}: ${s} vs ${expected.stats[i]}`).toBe(true));
    expect(lines).toEqual(expected.summary_lines);
  });

  it('per-category AP, AP50, AP75, AR and AP per category/area/maxDets', () => {
    const per = E.perCategory();
    expect(per.map((p) => p.categoryId)).toEqual(expected.per_category.map((p: { category_id: number }) => p.category_id));
    per.forEach((p, k) => {
      const e = expected.per_category[k];
      for (const key of ['ap', 'ap50', 'ap75', 'ar'] as const) expect(close(p[key], e[key]), `cat ${p.categoryId} ${key}: ${p[key]} vs ${e[key]}`).toBe(true);
    });
    const grid = E.apByCategoryAreaMaxDets();
    grid.forEach((byA, k) => byA.forEach((byM, a) => byM.forEach((v, m) => expect(close(v, expected.ap_by_cat_area_maxdet[k][a][m])).toBe(true))));
  });

  it('recall[T,K,A,M] and precision[:, :, :, all, last maxDets] in full', () => {
    const { recall, precision } = E.eval!;
    for (let t = 0; t < T; t++)
      for (let k = 0; k < K; k++)
        for (let a = 0; a < A; a++)
          for (let m = 0; m < M; m++) {
            expect(close(recall[((t * K + k) * A + a) * M + m], expected.recall[t][k][a][m]), `recall ${t},${k},${a},${m}`).toBe(true);
          }
    for (let t = 0; t < T; t++)
      for (let r = 0; r < R; r++)
        for (let k = 0; k < K; k++) {
          const got = precision[(((t * R + r) * K + k) * A + 0) * M + (M - 1)];
          expect(close(got, expected.precision_all_lastmaxdet[t][r][k]), `precision ${t},${r},${k}`).toBe(true);
        }
  });

  it.runIf(Array.isArray(expected.eval_imgs))('per-image matches, ignores and scores (evalImgs)', () => {
    const got = E.evalImgs
      .filter((e) => e !== null)
      .map((e) => ({
        image_id: e!.image_id,
        category_id: e!.category_id,
        areaRngIndex: E.params.areaRng.findIndex((r) => r === e!.aRng),
        maxDet: e!.maxDet,
        dtIds: e!.dtIds,
        gtIds: e!.gtIds,
        dtScores: e!.dtScores,
        gtIgnore: Array.from(e!.gtIgnore),
        dtMatches: rows(e!.dtMatches, e!.dtIds.length),
        gtMatches: rows(e!.gtMatches, e!.gtIds.length),
        dtIgnore: rows(e!.dtIgnore, e!.dtIds.length),
      }));
    expect(got).toEqual(expected.eval_imgs);
  });

  it('sharded: three shards evaluated apart, serialised or packed, merged in another order → bit-equal precision, recall, scores, stats', () => {
    const ids = E.params.imgIds;
    const parts = [ids.filter((_, i) => i % 3 === 1), ids.filter((_, i) => i % 3 === 0), ids.filter((_, i) => i % 3 === 2)];
    const shards = parts.map((part, i) => {
      const S = new COCOeval(E.cocoGt, E.cocoDt, E.params.iouType);
      for (const [k, v] of Object.entries(expected.params ?? {})) (S.params as unknown as Record<string, unknown>)[k] = v;
      const shard = evaluateShard(S, part);
      return i === 1 ? unpackShard(packShard(shard)) : parseShard(serializeShard(shard)); // as JSON text, and as packed arrays (threads)
    });
    const M = mergeShards([shards[2], shards[0], shards[1]]);
    const merged = M.accumulate();
    expect(merged.counts).toEqual(E.eval!.counts);
    for (const key of ['precision', 'recall', 'scores'] as const)
      expect(Buffer.from(merged[key].buffer).equals(Buffer.from(E.eval![key].buffer)), key).toBe(true);
    expect(M.summarize(() => {})).toEqual(stats);
  });
});
