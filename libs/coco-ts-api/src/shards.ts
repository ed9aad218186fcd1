/**
 * Sharded evaluation: `evaluate()` over a subset of the images gives per-image results that can be
 * serialised, merged in any order and accumulated to exactly the numbers of one `evaluate()` over all
 * images (bit-equal: the merged evalImgs are the single run's, in its order, so accumulate() sees the same input).
 */
import { COCO, CocoError } from './coco';
import { COCOeval, type EvalImg } from './eval';
import { type IouType, Params } from './params';

/** One shard: the parameters it was evaluated with and its non-empty per-image results. */
export interface EvalShard {
  format: 'coco-ts-api/eval-shard@1';
  iouType: IouType;
  /** The shard's images (sorted). */
  imgIds: number[];
  catIds: number[];
  useCats: 0 | 1;
  iouThrs: number[];
  recThrs: number[];
  maxDets: number[];
  areaRng: [number, number][];
  areaRngLbl: string[];
  /** evalImgs entries; `areaIndex` says which range. */
  entries: (EvalImg & { areaIndex: number })[];
}

/**
 * Evaluates the images `imgIds` (default: all of `E.params.imgIds`) and returns them as a shard. The other
 * parameters are E's; every shard of one evaluation must share them.
 *
 * @example
 * const shard = evaluateShard(new COCOeval(gt, dt, 'bbox'), imgIds.slice(0, 2500));
 */
export function evaluateShard(E: COCOeval, imgIds?: number[]): EvalShard {
  if (imgIds) E.params.imgIds = [...imgIds];
  E.evaluate();
  return shardOf(E);
}

/** The shard of an evaluated COCOeval. */
export function shardOf(E: COCOeval): EvalShard {
  const p = E.evaluatedParams;
  if (!p) throw new CocoError('shardOf: run evaluate() first');
  const I = p.imgIds.length;
  const A = p.areaRng.length;
  const entries: EvalShard['entries'] = [];
  E.evalImgs.forEach((e, n) => {
    if (e) entries.push({ ...e, areaIndex: Math.floor(n / I) % A });
  });
  return {
    format: 'coco-ts-api/eval-shard@1',
    iouType: p.iouType,
    imgIds: [...p.imgIds],
    catIds: [...p.catIds],
    useCats: p.useCats,
    iouThrs: [...p.iouThrs],
    recThrs: [...p.recThrs],
    maxDets: [...p.maxDets],
    areaRng: p.areaRng.map((r) => [r[0], r[1]]),
    areaRngLbl: [...p.areaRngLbl],
    entries,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Merges shards (any order) into a COCOeval ready for accumulate() / summarize() / perCategory(): the same
 * precision, recall and stats as one evaluate() over the union of their images. The shards must share every
 * parameter but the images, and no image may be in two shards.
 *
 * @example
 * const E = mergeShards([a, b]); E.accumulate(); E.summarize();
 */
export function mergeShards(shards: EvalShard[]): COCOeval {
  if (!shards.length) throw new CocoError('mergeShards: no shards');
  const first = shards[0];
  for (const [i, s] of shards.entries()) {
    if (s.format !== 'coco-ts-api/eval-shard@1') throw new CocoError(`shard ${i} is not a coco-ts-api evaluation shard`);
    for (const key of ['iouType', 'catIds', 'useCats', 'iouThrs', 'recThrs', 'maxDets', 'areaRng'] as const)
      if (!same(s[key], first[key]))
        throw new CocoError(
          `shard ${i} was evaluated with other ${key} than shard 0 (${JSON.stringify(s[key])} vs ${JSON.stringify(first[key])}); evaluate every shard with the same parameters`,
        );
  }
  const owner = new Map<number, number>();
  shards.forEach((s, i) =>
    s.imgIds.forEach((id) => {
      if (owner.has(id)) throw new CocoError(`image ${id} is in shards ${owner.get(id)} and ${i}; give each image to one shard`);
      owner.set(id, i);
    }),
  );
  const p = new Params(first.iouType);
  p.imgIds = [...owner.keys()].sort((a, b) => a - b);
  p.catIds = [...first.catIds];
  p.useCats = first.useCats;
  p.iouThrs = [...first.iouThrs];
  p.recThrs = [...first.recThrs];
  p.maxDets = [...first.maxDets];
  p.areaRng = first.areaRng.map((r) => [r[0], r[1]]);
  p.areaRngLbl = [...first.areaRngLbl];
  const I = p.imgIds.length;
  const A = p.areaRng.length;
  const imgIndex = new Map(p.imgIds.map((id, i) => [id, i]));
  const catIndex = new Map((p.useCats ? p.catIds : [-1]).map((id, i) => [id, i]));
  const evalImgs: (EvalImg | null)[] = new Array((p.useCats ? p.catIds.length : 1) * A * I).fill(null);
  for (const s of shards) {
    for (const { areaIndex, ...e } of s.entries) {
      const k = catIndex.get(e.category_id);
      if (k === undefined) throw new CocoError(`a shard entry names category ${e.category_id}, which its parameters do not hold`);
      evalImgs[(k * A + areaIndex) * I + imgIndex.get(e.image_id)!] = e;
    }
  }
  const empty = new COCO({ images: [], annotations: [], categories: [] });
  const E = new COCOeval(empty, empty, first.iouType);
  E.params = p;
  E.loadEvaluation(evalImgs, p);
  return E;
}

/** A shard as JSON text (typed arrays as lists). */
export function serializeShard(shard: EvalShard): string {
  return JSON.stringify({
    ...shard,
    entries: shard.entries.map((e) => ({
      ...e,
      dtMatches: Array.from(e.dtMatches),
      gtMatches: Array.from(e.gtMatches),
      gtIgnore: Array.from(e.gtIgnore),
      dtIgnore: Array.from(e.dtIgnore),
    })),
  });
}

/** A shard back from `serializeShard`'s text. */
export function parseShard(text: string): EvalShard {
  const s = JSON.parse(text) as EvalShard;
  if (s?.format !== 'coco-ts-api/eval-shard@1') throw new CocoError('not a coco-ts-api evaluation shard (format coco-ts-api/eval-shard@1)');
  s.entries = s.entries.map((e) => ({
    ...e,
    dtMatches: Float64Array.from(e.dtMatches as unknown as number[]),
    gtMatches: Float64Array.from(e.gtMatches as unknown as number[]),
    gtIgnore: Uint8Array.from(e.gtIgnore as unknown as number[]),
    dtIgnore: Uint8Array.from(e.dtIgnore as unknown as number[]),
  }));
  return s;
}

/** A shard in a few flat typed arrays, to cross threads without copying (`transferList` = `buffersOf`). */
export interface PackedShard {
  header: Omit<EvalShard, 'entries'>;
  /** Per entry: areaIndex, maxDet, D (detections), G (ground truths). */
  meta: Int32Array;
  /** Per entry: image id, category id. */
  ids: Float64Array;
  dtIds: Float64Array;
  gtIds: Float64Array;
  dtScores: Float64Array;
  /** Per entry its T·D, then T·G values. */
  dtMatches: Float64Array;
  gtMatches: Float64Array;
  gtIgnore: Uint8Array;
  dtIgnore: Uint8Array;
}

/** Packs a shard into flat typed arrays. */
export function packShard(shard: EvalShard): PackedShard {
  const { entries, ...header } = shard;
  const T = shard.iouThrs.length;
  let nd = 0;
  let ng = 0;
  for (const e of entries) {
    nd += e.dtIds.length;
    ng += e.gtIds.length;
  }
  const out: PackedShard = {
    header,
    meta: new Int32Array(entries.length * 4),
    ids: new Float64Array(entries.length * 2),
    dtIds: new Float64Array(nd),
    gtIds: new Float64Array(ng),
    dtScores: new Float64Array(nd),
    dtMatches: new Float64Array(T * nd),
    gtMatches: new Float64Array(T * ng),
    gtIgnore: new Uint8Array(ng),
    dtIgnore: new Uint8Array(T * nd),
  };
  let d = 0;
  let g = 0;
  entries.forEach((e, i) => {
    const D = e.dtIds.length;
    const G = e.gtIds.length;
    out.meta.set([e.areaIndex, e.maxDet, D, G], i * 4);
    out.ids[i * 2] = e.image_id;
    out.ids[i * 2 + 1] = e.category_id;
    out.dtIds.set(e.dtIds, d);
    out.gtIds.set(e.gtIds, g);
    out.dtScores.set(e.dtScores, d);
    out.dtMatches.set(e.dtMatches, T * d);
    out.gtMatches.set(e.gtMatches, T * g);
    out.gtIgnore.set(e.gtIgnore, g);
    out.dtIgnore.set(e.dtIgnore, T * d);
    d += D;
    g += G;
  });
  return out;
}

/** The buffers of a packed shard (for postMessage's transfer list). */
export function buffersOf(p: PackedShard): ArrayBuffer[] {
  return [p.meta, p.ids, p.dtIds, p.gtIds, p.dtScores, p.dtMatches, p.gtMatches, p.gtIgnore, p.dtIgnore].map((a) => a.buffer as ArrayBuffer);
}

/** A packed shard back as a shard; entries view the packed arrays (no copy). */
export function unpackShard(p: PackedShard): EvalShard {
  const T = p.header.iouThrs.length;
  const n = p.meta.length / 4;
  const entries: EvalShard['entries'] = new Array(n);
  let d = 0;
  let g = 0;
  for (let i = 0; i < n; i++) {
    const [areaIndex, maxDet, D, G] = p.meta.subarray(i * 4, i * 4 + 4);
    entries[i] = {
      image_id: p.ids[i * 2],
      category_id: p.ids[i * 2 + 1],
      aRng: p.header.areaRng[areaIndex],
      areaIndex,
      maxDet,
      dtIds: p.dtIds.subarray(d, d + D) as unknown as number[],
      gtIds: p.gtIds.subarray(g, g + G) as unknown as number[],
      dtScores: p.dtScores.subarray(d, d + D) as unknown as number[],
      dtMatches: p.dtMatches.subarray(T * d, T * (d + D)),
      gtMatches: p.gtMatches.subarray(T * g, T * (g + G)),
      gtIgnore: p.gtIgnore.subarray(g, g + G),
      dtIgnore: p.dtIgnore.subarray(T * d, T * (d + D)),
    };
    d += D;
    g += G;
  }
  return { ...p.header, entries };
}
