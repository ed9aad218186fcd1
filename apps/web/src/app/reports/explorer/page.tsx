'use client';
import { useEffect, useMemo, useState } from 'react';
import { COCO, COCOeval, type CocoDataset, type CocoResult, ERROR_KINDS, type ExtendedMetrics, extendedMetrics } from 'coco-ts-api';
import { type DetectionError, matchDetections } from '@cv/tasks-detect/matching';
import { ErrorLine, Slider } from '../../../client/components';
import { MATCHING_DEFAULTS } from '@cv/tasks-detect/answer';

interface ExplorerData {
  seed: number;
  model: string;
  gt: CocoDataset & { images: { id: number; file_name: string }[]; categories: { id: number; name: string }[] };
  dets: CocoResult[];
}

/**
 * AP per class at one IoU threshold (COCOeval with iouThrs = [iou]) of the detections with score ≥ conf, and
 * coco-ts-api's TIDE-style error breakdown there.
 */
function apAt(data: ExplorerData, conf: number, iou: number): { ap: number[]; errors: ExtendedMetrics['errors'] } {
  const gt = new COCO(structuredClone(data.gt));
  const kept = data.dets.filter((d) => d.score >= conf);
  const E = new COCOeval(gt, gt.loadRes(structuredClone(kept)), 'bbox');
  E.params.iouThrs = [iou];
  E.evaluate();
  E.accumulate();
  return { ap: E.perCategory().map((c) => c.ap), errors: extendedMetrics(E, { iouThr: iou }).errors };
}

function Crop({ data, e }: { data: ExplorerData; e: DetectionError }) {
  const file = data.gt.images.find((im) => im.id === e.imageId)!.file_name;
  const [x, y, w, h] = e.bbox;
  const m = Math.max(12, Math.max(w, h) / 2);
  const name = (id?: number) => data.gt.categories.find((c) => c.id === id)?.name ?? String(id);
  const caption = `${e.kind}: ${name(e.categoryId)}${e.otherCategoryId ? ` (other side: ${name(e.otherCategoryId)})` : ''}${e.score !== undefined ? ` ${e.score.toFixed(2)}` : ''} · image ${e.imageId}`;
  return (
    <figure className="w-36" data-testid="error-crop">
      <svg
        viewBox={`${x - m} ${y - m} ${w + 2 * m} ${h + 2 * m}`}
        className="h-36 w-36 rounded border border-slate-200 bg-slate-200"
        role="img"
        aria-label={caption}
      >
        <image href={`/reports/explorer/images/${file}`} x={0} y={0} width={160} height={160} />
        <rect
          x={x}
          y={y}
          width={w}
          height={h}
          fill="none"
          stroke={e.kind === 'missed' || e.kind === 'misread' ? '#1d4ed8' : '#dc2626'}
          strokeWidth={Math.max(0.8, (w + 2 * m) / 80)}
        />
      </svg>
      <figcaption className="mt-1 text-xs text-slate-700">{caption}</figcaption>
    </figure>
  );
}

export default function ExplorerPage() {
  const [data, setData] = useState<ExplorerData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [conf, setConf] = useState(MATCHING_DEFAULTS.conf);
  const [iou, setIou] = useState(MATCHING_DEFAULTS.iou);
  const [cell, setCell] = useState<[number, number] | null>(null);
  useEffect(() => {
    fetch('/reports/explorer/data.json')
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`the explorer set is missing (${r.status}); run npx nx run web:prepare`))))
      .then(setData)
      .catch((e: Error) => setError(e.message));
  }, []);
  const names = data?.gt.categories.map((c) => c.name) ?? [];
  const ids = useMemo(() => data?.gt.categories.map((c) => c.id) ?? [], [data]);
  const matching = useMemo(() => (data ? matchDetections(data.gt, data.dets, ids, { conf, iou }) : null), [data, ids, conf, iou]);
  const evaluated = useMemo(() => (data ? apAt(data, conf, iou) : null), [data, conf, iou]);
  const ap = evaluated?.ap ?? [];
  const k = ids.length;
  const perClass = matching
    ? ids.map((_, c) => {
        const m = matching.matrix;
        const tp = m[c][c];
        const fp = m.reduce((s, row, r) => s + (r === c ? 0 : row[c]), 0);
        const fn = m[c].reduce((s, v, p) => s + (p === c ? 0 : v), 0);
        return { tp, fp, fn, precision: tp + fp ? tp / (tp + fp) : 0, recall: tp + fn ? tp / (tp + fn) : 0 };
      })
    : [];
  const errors = useMemo(() => {
    if (!matching || !cell) return [];
    const [t, p] = cell;
    if (t === k) return matching.falsePositives.filter((e) => e.kind === 'background' && e.categoryId === ids[p]);
    if (p === k) return matching.falseNegatives.filter((e) => e.kind === 'missed' && e.categoryId === ids[t]);
    if (t !== p) return matching.falsePositives.filter((e) => e.kind === 'wrong class' && e.categoryId === ids[p] && e.otherCategoryId === ids[t]);
    return [];
  }, [matching, cell, ids, k]);
  const label = (i: number) => (i === k ? 'background' : names[i]);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Detection explorer</h1>
      <p className="text-sm text-slate-700">
        The shipped detector on {data?.gt.images.length ?? '…'} shapes scenes of seed {data?.seed ?? '…'} (never trained or validated on), made harder image by
        image: contrast falls to 60 % and noise rises to σ 24. Each slider move re-matches detections to objects and re-runs COCOeval (coco-ts-api) in this
        page. Click a cell of the confusion matrix to see its errors.
      </p>
      <ErrorLine error={error} />
      <div className="space-y-2 rounded-lg border border-slate-200 bg-white p-4">
        <Slider label="Score threshold" testId="explorer-conf" value={conf} min={0} max={0.95} step={0.05} onChange={setConf} />
        <Slider label="IoU threshold" testId="explorer-iou" value={iou} min={0.3} max={0.95} step={0.05} onChange={setIou} />
      </div>
      {evaluated?.errors && (
        <section aria-label="Error breakdown" className="rounded-lg border border-slate-200 bg-white p-4">
          <div className="max-w-full overflow-x-auto" tabIndex={0} role="region" aria-label="Error breakdown table">
            <table className="text-sm" data-testid="explorer-errors">
              <caption className="mb-2 text-left font-medium">
                Errors at score ≥ {conf.toFixed(2)}, IoU ≥ {iou.toFixed(2)} (TIDE-style, coco-ts-api): mean AP {evaluated.errors.baseAP.toFixed(3)}, and what
                fixing only one kind would add
              </caption>
              <thead>
                <tr>
                  {['error', 'count', 'AP gain'].map((h, i) => (
                    <th key={h} className={`border-b border-slate-300 px-2 py-1 ${i ? 'text-right' : 'text-left'}`}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {ERROR_KINDS.map((k) => (
                  <tr key={k} data-testid={`explorer-error-${k}`} data-count={evaluated.errors!.counts[k]} data-gain={evaluated.errors!.apGain[k]}>
                    <td className="px-2 py-1">{k}</td>
                    <td className="px-2 py-1 text-right">{evaluated.errors!.counts[k]}</td>
                    <td className="px-2 py-1 text-right">+{evaluated.errors!.apGain[k].toFixed(3)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {matching && (
        <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
          <section aria-label="Per class" className="rounded-lg border border-slate-200 bg-white p-4">
            <div className="max-w-full overflow-x-auto" tabIndex={0} role="region" aria-label="Per-class table">
              <table className="text-sm" data-testid="explorer-table">
                <caption className="mb-2 text-left font-medium">
                  At score ≥ {conf.toFixed(2)}, IoU ≥ {iou.toFixed(2)}
                </caption>
                <thead>
                  <tr>
                    {['class', 'TP', 'FP', 'FN', 'precision', 'recall', `AP@${iou.toFixed(2)}`].map((h, i) => (
                      <th key={h} className={`border-b border-slate-300 px-2 py-1 ${i ? 'text-right' : 'text-left'}`}>
                        {h}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {perClass.map((c, i) => (
                    <tr key={names[i]} data-testid={`explorer-row-${names[i]}`} data-precision={c.precision} data-recall={c.recall}>
                      <td className="px-2 py-1">{names[i]}</td>
                      <td className="px-2 py-1 text-right">{c.tp}</td>
                      <td className="px-2 py-1 text-right">{c.fp}</td>
                      <td className="px-2 py-1 text-right">{c.fn}</td>
                      <td className="px-2 py-1 text-right">{c.precision.toFixed(3)}</td>
                      <td className="px-2 py-1 text-right">{c.recall.toFixed(3)}</td>
                      <td className="px-2 py-1 text-right">{ap[i] < 0 ? '—' : ap[i].toFixed(3)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section aria-label="Confusion matrix" className="rounded-lg border border-slate-200 bg-white p-4">
            <div className="max-w-full overflow-x-auto" tabIndex={0} role="region" aria-label="Confusion matrix">
              <table className="text-sm" data-testid="confusion">
                <caption className="mb-2 text-left font-medium">Confusion matrix (rows: truth, columns: prediction)</caption>
                <thead>
                  <tr>
                    <th />
                    {Array.from({ length: k + 1 }, (_, p) => (
                      <th key={p} scope="col" className="px-2 py-1 text-xs font-medium">
                        {label(p)}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {matching.matrix.map((row, t) => (
                    <tr key={t}>
                      <th scope="row" className="px-2 py-1 text-left text-xs font-medium">
                        {label(t)}
                      </th>
                      {row.map((v, p) =>
                        t === k && p === k ? (
                          <td key={p} className="p-0.5 text-center text-slate-500" aria-label="not counted">
                            —
                          </td>
                        ) : (
                          <td key={p} className="p-0.5">
                            <button
                              type="button"
                              data-testid={`cell-${t}-${p}`}
                              onClick={() => setCell([t, p])}
                              aria-label={`truth ${label(t)}, predicted ${label(p)}: ${v}`}
                              aria-pressed={cell?.[0] === t && cell?.[1] === p}
                              className={`h-9 w-14 rounded text-sm tabular-nums ${t === p ? 'bg-emerald-100 text-emerald-900' : v ? 'bg-red-100 text-red-900' : 'bg-slate-50 text-slate-600'} ${cell?.[0] === t && cell?.[1] === p ? 'ring-2 ring-blue-700' : ''}`}
                            >
                              {v}
                            </button>
                          </td>
                        ),
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </div>
      )}
      {cell && (
        <section aria-label="Errors of the chosen cell" className="rounded-lg border border-slate-200 bg-white p-4" data-testid="errors">
          <h2 className="mb-2 font-medium">
            Truth {label(cell[0])}, predicted {label(cell[1])}: {cell[0] === cell[1] ? 'correct detections' : `${errors.length} errors`}
          </h2>
          <div className="flex flex-wrap gap-3">
            {errors.slice(0, 60).map((e, i) => (
              <Crop key={i} data={data!} e={e} />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
