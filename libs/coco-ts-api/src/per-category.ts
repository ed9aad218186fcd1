import type { CategoryAP, EvalResult } from './eval-types';
import { meanOfValid } from './numeric';
import type { Params } from './params';

/** AP@[.5:.95], AP50, AP75 and AR per category at area 'all' and the last maxDets (−1 = no gt). */
export function perCategoryAP({ precision, recall, counts }: EvalResult, p: Params): CategoryAP[] {
  const [T, R, K, A, M] = counts;
  const m = M - 1;
  const ids = p.useCats ? p.catIds : [-1];
  const tAt = (v: number) => p.iouThrs.findIndex((x) => x === v);
  const apOf = (k: number, ts: number[]) => {
    const vals: number[] = [];
    for (const t of ts) for (let r = 0; r < R; r++) vals.push(precision[(((t * R + r) * K + k) * A + 0) * M + m]);
    return meanOfValid(vals);
  };
  return ids.slice(0, K).map((categoryId, k) => {
    const rec: number[] = [];
    for (let t = 0; t < T; t++) rec.push(recall[((t * K + k) * A + 0) * M + m]);
    return {
      categoryId,
      ap: apOf(k, [...Array(T).keys()]),
      ap50: tAt(0.5) >= 0 ? apOf(k, [tAt(0.5)]) : -1,
      ap75: tAt(0.75) >= 0 ? apOf(k, [tAt(0.75)]) : -1,
      ar: meanOfValid(rec),
    };
  });
}

/** AP@[.5:.95] per category, area range and maxDets: [K][A][M] (−1 = no gt). */
export function apGrid({ precision, counts }: EvalResult): number[][][] {
  const [T, R, K, A, M] = counts;
  return Array.from({ length: K }, (_, k) =>
    Array.from({ length: A }, (_, a) =>
      Array.from({ length: M }, (_, m) => {
        const vals: number[] = [];
        for (let t = 0; t < T; t++) for (let r = 0; r < R; r++) vals.push(precision[(((t * R + r) * K + k) * A + a) * M + m]);
        return meanOfValid(vals);
      }),
    ),
  );
}
