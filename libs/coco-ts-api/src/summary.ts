/** pycocotools' summarize(): the rows of _summarizeDets / _summarizeKps, their means and printed lines. */
import { CocoError } from './coco';
import type { EvalResult } from './eval-types';
import { meanOfValid, pyFixed } from './numeric';
import type { Params } from './params';

/** One summary line: AP (true) or AR, IoU threshold (null: all), area range label, maxDets. */
export type SummaryRow = [boolean, number | null, string, number];

/** pycocotools' _summarizeKps: maxDets 20 literally, areas all / medium / large. */
const KEYPOINT_ROWS: SummaryRow[] = [
  [true, null, 'all', 20],
  [true, 0.5, 'all', 20],
  [true, 0.75, 'all', 20],
  [true, null, 'medium', 20],
  [true, null, 'large', 20],
  [false, null, 'all', 20],
  [false, 0.5, 'all', 20],
  [false, 0.75, 'all', 20],
  [false, null, 'medium', 20],
  [false, null, 'large', 20],
];

/** pycocotools' _summarizeDets rows (stats[0] uses maxDets 100 literally). */
function detectionRows(p: Params): SummaryRow[] {
  if (p.maxDets.length < 3) throw new CocoError(`summarize() needs 3 maxDets (got [${p.maxDets}]), as in pycocotools`);
  const md = p.maxDets;
  return [
    [true, null, 'all', 100],
    [true, 0.5, 'all', md[2]],
    [true, 0.75, 'all', md[2]],
    [true, null, 'small', md[2]],
    [true, null, 'medium', md[2]],
    [true, null, 'large', md[2]],
    [false, null, 'all', md[0]],
    [false, null, 'all', md[1]],
    [false, null, 'all', md[2]],
    [false, null, 'small', md[2]],
    [false, null, 'medium', md[2]],
    [false, null, 'large', md[2]],
  ];
}

/** Mean AP (ap=true) or AR over valid entries for an IoU threshold (or all), area label and maxDets. */
export function summarizeOne({ precision, recall, counts }: EvalResult, p: Params, [ap, iouThr, areaRng, maxDets]: SummaryRow): number {
  const [T, R, K, A, M] = counts;
  const tSel = iouThr === null ? [...Array(T).keys()] : p.iouThrs.flatMap((v, i) => (v === iouThr ? [i] : []));
  const aSel = p.areaRngLbl.flatMap((l, i) => (l === areaRng ? [i] : []));
  const mSel = p.maxDets.flatMap((d, i) => (d === maxDets ? [i] : []));
  const vals: number[] = [];
  if (aSel.length && mSel.length) {
    const a = aSel[0];
    const m = mSel[0];
    for (const t of tSel) {
      if (ap) for (let r = 0; r < R; r++) for (let k = 0; k < K; k++) vals.push(precision[(((t * R + r) * K + k) * A + a) * M + m]);
      else for (let k = 0; k < K; k++) vals.push(recall[((t * K + k) * A + a) * M + m]);
    }
  }
  return meanOfValid(vals);
}

/** The stats and the lines pycocotools prints: 12 for bbox / segm, 10 for keypoints. */
export function summaryLines(ev: EvalResult, p: Params): { stats: number[]; lines: string[] } {
  const rows = p.iouType === 'keypoints' ? KEYPOINT_ROWS : detectionRows(p);
  const stats = rows.map((row) => summarizeOne(ev, p, row));
  const lines = rows.map(([ap, thr, area, m], i) => {
    const title = (ap ? 'Average Precision' : 'Average Recall').padEnd(18);
    const iouStr = (thr === null ? `${pyFixed(p.iouThrs[0], 2)}:${pyFixed(p.iouThrs[p.iouThrs.length - 1], 2)}` : pyFixed(thr, 2)).padEnd(9);
    return ` ${title} ${ap ? '(AP)' : '(AR)'} @[ IoU=${iouStr} | area=${area.padStart(6)} | maxDets=${String(m).padStart(3)} ] = ${pyFixed(stats[i], 3)}`;
  });
  return { stats, lines };
}
