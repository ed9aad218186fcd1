'use client';
import { useEffect, useMemo, useState } from 'react';
import type { DetectionPredictor } from '@cv/tasks-detect/predict';
import { postImage } from '../../client/api';
import { AnswerPanel, ErrorLine, ImageInput, ModeToggle, Slider } from '../../client/components';
import { useRunner } from '../../client/use-runner';
import { CANDIDATES, type DetectAnswer, detectAnswer, PREDICT_DEFAULTS } from '../../shared/results';

const MODEL = 'shapes-detect';
const COLOURS = ['#e11d48', '#0369a1', '#b45309', '#15803d', '#7c3aed', '#be185d'];

type Refilter = typeof import('@cv/tasks-detect/predict').filterDetections;

export default function DetectPage() {
  const [conf, setConf] = useState(PREDICT_DEFAULTS.conf);
  const [iou, setIou] = useState(PREDICT_DEFAULTS.iou);
  const [backend, setBackend] = useState<string>();
  // The detector's own class-aware NMS, loaded with the detect lib after the first paint.
  const [refilter, setRefilter] = useState<{ fn: Refilter } | null>(null);
  useEffect(() => {
    import('@cv/tasks-detect/predict').then((m) => setRefilter({ fn: m.filterDetections }));
  }, []);
  const r = useRunner<DetectAnswer>(async (image, inBrowser) => {
    if (!inBrowser) return postImage<DetectAnswer>('detect', image, { model: MODEL, ...CANDIDATES });
    const rt = await import('../../client/runtime');
    setBackend(await rt.browserBackend());
    const predictor = await rt.browserPredictor<DetectionPredictor>(MODEL);
    const img = await rt.decodeInPage(image);
    const [objects] = predictor.predict([img], CANDIDATES);
    return detectAnswer(MODEL, predictor.metadata.classNames, img.width, img.height, objects);
  });
  const shown = useMemo(
    () => (r.result && refilter ? refilter.fn(r.result.detections, r.result.classes, { conf, iou, maxDet: CANDIDATES.maxDet }) : []),
    [r.result, refilter, conf, iou],
  );
  const counts = useMemo(() => {
    const c = new Map<string, number>(r.result?.classes.map((name) => [name, 0]));
    for (const d of shown) c.set(d.label, (c.get(d.label) ?? 0) + 1);
    return [...c];
  }, [shown, r.result]);
  const colourOf = (label: string) => COLOURS[Math.max(0, r.result?.classes.indexOf(label) ?? 0) % COLOURS.length];
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Detect</h1>
        <p className="text-sm text-slate-700">
          The shapes detector (YOLO-style, anchor-free) finds circles, squares and triangles. The server sends every candidate above {CANDIDATES.conf}; the
          sliders re-filter them here, with the detector&apos;s own class-aware NMS, without a new request.
        </p>
        <ModeToggle inBrowser={r.inBrowser} onChange={r.setInBrowser} backend={backend} />
        <ImageInput kinds={['shapes']} onImage={r.choose} busy={r.busy} />
        <div className="space-y-2 rounded-lg border border-slate-200 bg-white p-4">
          <Slider label="Confidence" testId="conf" value={conf} min={0.05} max={0.95} step={0.05} onChange={setConf} />
          <Slider label="NMS IoU" testId="iou" value={iou} min={0.05} max={0.95} step={0.05} onChange={setIou} />
        </div>
        <ErrorLine error={r.error} />
      </div>
      <AnswerPanel json={r.result ? JSON.stringify(r.result) : ''} busy={r.busy} timing={r.timing}>
        {r.image && r.result ? (
          <div className="relative inline-block w-full max-w-md">
            {/* eslint-disable-next-line @next/next/no-img-element */}
            <img src={r.image.url} alt={`the image searched: ${r.image.name}`} className="block w-full" />
            <svg
              viewBox={`0 0 ${r.result.width} ${r.result.height}`}
              className="absolute inset-0 h-full w-full"
              role="img"
              aria-label={`${shown.length} boxes`}
            >
              {shown.map((d, i) => (
                <g key={i} data-testid="box" data-label={d.label} data-score={d.score}>
                  <rect
                    x={d.box[0]}
                    y={d.box[1]}
                    width={d.box[2]}
                    height={d.box[3]}
                    fill="none"
                    stroke={colourOf(d.label)}
                    strokeWidth={Math.max(1, r.result!.width / 200)}
                  />
                  <text
                    x={d.box[0] + 1}
                    y={Math.max(8, d.box[1] - 2)}
                    fontSize={Math.max(7, r.result!.width / 30)}
                    fill={colourOf(d.label)}
                    stroke="white"
                    strokeWidth={0.3}
                  >
                    {d.label} {d.score.toFixed(2)}
                  </text>
                </g>
              ))}
            </svg>
          </div>
        ) : (
          <p className="text-sm text-slate-600">{r.busy ? 'Detecting…' : 'Choose an image to see its boxes.'}</p>
        )}
        {r.result && (
          <table className="mt-4 text-sm" aria-label="Boxes per class">
            <thead>
              <tr>
                <th className="pr-6 text-left">class</th>
                <th className="text-right">boxes</th>
              </tr>
            </thead>
            <tbody>
              {counts.map(([name, n]) => (
                <tr key={name} data-testid={`count-${name}`}>
                  <td className="pr-6">
                    <span className="mr-2 inline-block h-3 w-3 rounded-sm" style={{ background: colourOf(name) }} />
                    {name}
                  </td>
                  <td className="text-right">{n}</td>
                </tr>
              ))}
              <tr className="border-t border-slate-200 font-semibold">
                <td>total</td>
                <td className="text-right" data-testid="box-count">
                  {shown.length}
                </td>
              </tr>
            </tbody>
          </table>
        )}
      </AnswerPanel>
    </div>
  );
}
