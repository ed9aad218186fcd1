'use client';
import { useCallback, useEffect, useId, useMemo, useState } from 'react';
import type { DecodedImage } from '@cv/engine/core';
import type { DetectionPredictor } from '@cv/tasks-detect/predict';
import { postImage } from '../../client/api';
import { AnswerPanel, Downloads, ErrorLine, jsonBlob, LoadProgress, ModelSelect, ModeToggle, Slider, Toggle, useTaskModels } from '../../client/components';
import { Gallery, ImageInput } from '../../client/inputs';
import { annotatedPng, BOX_COLOURS, drawDetections } from '../../client/draw';
import { useRunner } from '../../client/use-runner';
import { Webcam } from '../../client/webcam';
import { CANDIDATES, cocoResults, type DetectAnswer, detectAnswer, type DetectionBox, PREDICT_DEFAULTS } from '../../shared/results';

const DEFAULT_MODEL = { id: 'shapes-detect', title: 'Shapes detector (YOLO-style)' };

type Refilter = typeof import('@cv/tasks-detect/predict').filterDetections;

export default function DetectPage() {
  const models = useTaskModels('detect', DEFAULT_MODEL);
  const [model, setModel] = useState(DEFAULT_MODEL.id);
  // A model with no in-browser copy (an ONNX model the operator added) is always answered by the server.
  const serverOnly = models.find((m) => m.id === model)?.serverOnly === true;
  const [conf, setConf] = useState(PREDICT_DEFAULTS.conf);
  const [iou, setIou] = useState(PREDICT_DEFAULTS.iou);
  const [labels, setLabels] = useState(true);
  const [hidden, setHidden] = useState<Set<string>>(new Set());
  const [imageId, setImageId] = useState(1);
  const [backend, setBackend] = useState<string>();
  const [loading, setLoading] = useState<number | null>(null);
  const imageIdField = useId();
  // The detector's own class-aware NMS, loaded with the detect lib after the first paint.
  const [refilter, setRefilter] = useState<{ fn: Refilter } | null>(null);
  useEffect(() => {
    import('@cv/tasks-detect/predict').then((m) => setRefilter({ fn: m.filterDetections }));
  }, []);

  const pagePredictor = useCallback(async () => {
    const rt = await import('../../client/runtime');
    setBackend(await rt.browserBackend());
    const predictor = await rt.browserPredictor<DetectionPredictor>(model, setLoading);
    return { rt, predictor };
  }, [model]);

  const answerFor = useCallback(
    async (image: DecodedImage, decodeMs: number): Promise<DetectAnswer> => {
      const { rt, predictor } = await pagePredictor();
      const [objects] = await predictor.predictAsync([image], CANDIDATES);
      return { ...detectAnswer(model, predictor.metadata, image.width, image.height, objects), timing: rt.pageStages(decodeMs, predictor) };
    },
    [model, pagePredictor],
  );

  const r = useRunner<DetectAnswer>(
    async (image, inBrowser) => {
      if (!inBrowser || serverOnly) return postImage<DetectAnswer>('detect', image, { model, ...CANDIDATES });
      const rt = await import('../../client/runtime');
      const { image: img, ms } = await rt.timedDecode(image);
      return answerFor(img, ms);
    },
    [model, serverOnly],
  );

  const filter = useCallback(
    (a: DetectAnswer): DetectionBox[] =>
      (refilter ? refilter.fn(a.detections, a.classes, { conf, iou, maxDet: CANDIDATES.maxDet }) : a.detections.filter((d) => d.score >= conf)).filter(
        (d) => !hidden.has(d.label),
      ),
    [refilter, conf, iou, hidden],
  );
  const shown = useMemo(() => (r.result ? filter(r.result) : []), [r.result, filter]);
  const counts = useMemo(() => {
    const c = new Map<string, number>(r.result?.classes.map((name) => [name, 0]));
    if (r.result && refilter) {
      for (const d of refilter.fn(r.result.detections, r.result.classes, { conf, iou, maxDet: CANDIDATES.maxDet })) c.set(d.label, (c.get(d.label) ?? 0) + 1);
    }
    return [...c];
  }, [r.result, refilter, conf, iou]);
  const colourOf = useCallback((label: string) => BOX_COLOURS[Math.max(0, r.result?.classes.indexOf(label) ?? 0) % BOX_COLOURS.length], [r.result]);
  const shownAnswer = r.result ? { ...r.result, detections: shown } : null;
  const stem = (r.image?.name ?? 'webcam').replace(/\.[^.]+$/, '');

  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="min-w-0 space-y-4">
        <h1 className="text-2xl font-semibold">Detect</h1>
        <p className="text-sm text-slate-700">
          The shapes detector (YOLO-style, anchor-free) finds circles, squares and triangles. The server sends every candidate above {CANDIDATES.conf}; the
          sliders re-filter them here, with the detector&apos;s own class-aware NMS, without a new request.
        </p>
        <div className="flex flex-wrap items-center gap-4">
          <ModelSelect ids={models} value={model} onChange={setModel} />
          <ModeToggle inBrowser={r.inBrowser} onChange={r.setInBrowser} backend={backend} />
        </div>
        <LoadProgress fraction={loading} />
        <ImageInput kinds={['shapes']} onImages={r.chooseMany} busy={r.busy} />
        <Webcam<DetectAnswer>
          run={(frame) => answerFor(frame, 0)}
          draw={(ctx, a) => drawDetections(ctx, filter(a), colourOf, labels)}
          onResult={(a, ms) => r.setLive(a, ms)}
        />
        <div className="space-y-2 rounded-lg border border-slate-200 bg-white p-4" data-a11y-new>
          <Slider label="Confidence" testId="conf" value={conf} min={0.05} max={0.95} step={0.05} onChange={setConf} />
          <Slider label="NMS IoU" testId="iou" value={iou} min={0.05} max={0.95} step={0.05} onChange={setIou} />
          <Toggle label="Show labels" testId="labels" checked={labels} onChange={setLabels} />
        </div>
        <Gallery items={r.items} selected={r.selected} onSelect={r.setSelected} summary={(a) => `${filter(a).length} boxes`} />
        <ErrorLine error={r.error} />
      </div>
      <AnswerPanel json={shownAnswer ? JSON.stringify(r.result) : ''} busy={r.busy} timing={r.timing}>
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
                  {labels && (
                    <text
                      x={d.box[0] + 1}
                      y={Math.max(8, d.box[1] - 2)}
                      fontSize={Math.max(7, r.result!.width / 30)}
                      fill={colourOf(d.label)}
                      stroke="white"
                      strokeWidth={0.3}
                      data-testid="box-label"
                    >
                      {d.label} {d.score.toFixed(2)}
                    </text>
                  )}
                </g>
              ))}
            </svg>
          </div>
        ) : (
          <p className="text-sm text-slate-700">
            {r.live ? 'Live: the boxes are drawn on the camera view.' : r.busy ? 'Detecting…' : 'Choose an image to see its boxes.'}
          </p>
        )}
        {r.result && (
          <table className="mt-4 text-sm" aria-label="Boxes per class">
            <thead>
              <tr>
                <th className="pr-6 text-left">class</th>
                <th className="pr-6 text-right">boxes</th>
                <th className="text-left">shown</th>
              </tr>
            </thead>
            <tbody>
              {counts.map(([name, n]) => (
                <tr key={name} data-testid={`count-${name}`}>
                  <td className="pr-6">
                    <span className="mr-2 inline-block h-3 w-3 rounded-sm" style={{ background: colourOf(name) }} />
                    {name}
                  </td>
                  <td className="pr-6 text-right">{n}</td>
                  <td>
                    <input
                      type="checkbox"
                      className="h-4 w-4"
                      aria-label={`show ${name}`}
                      data-testid={`show-${name}`}
                      checked={!hidden.has(name)}
                      onChange={(e) =>
                        setHidden((old) => {
                          const next = new Set(old);
                          if (e.target.checked) next.delete(name);
                          else next.add(name);
                          return next;
                        })
                      }
                    />
                  </td>
                </tr>
              ))}
              <tr className="border-t border-slate-200 font-semibold">
                <td>shown</td>
                <td className="pr-6 text-right" data-testid="box-count">
                  {shown.length}
                </td>
                <td />
              </tr>
            </tbody>
          </table>
        )}
        {r.result && shown.length > 0 && (
          <div className="mt-4 max-h-64 overflow-auto" tabIndex={0} role="region" aria-label="Box coordinates" data-a11y-new>
            <table className="text-xs" data-testid="box-table">
              <thead>
                <tr>
                  {['class', 'score', 'x', 'y', 'width', 'height'].map((h) => (
                    <th key={h} className={`pr-3 ${h === 'class' ? 'text-left' : 'text-right'}`}>
                      {h}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody className="font-mono">
                {shown.map((d, i) => (
                  <tr key={i} data-testid="box-row">
                    <td className="pr-3">{d.label}</td>
                    <td className="pr-3 text-right">{d.score.toFixed(3)}</td>
                    {d.box.map((v, j) => (
                      <td key={j} className="pr-3 text-right">
                        {v.toFixed(1)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {shownAnswer && (
          <>
            <Downloads
              files={[
                ...(r.image
                  ? [
                      {
                        label: 'Annotated PNG',
                        name: `${stem}-boxes.png`,
                        testId: 'download-png',
                        make: () => annotatedPng(r.image!.blob, (ctx) => drawDetections(ctx, shown, colourOf, labels)),
                      },
                    ]
                  : []),
                { label: 'Answer JSON', name: `${stem}-detections.json`, testId: 'download-json', make: () => jsonBlob(shownAnswer) },
                {
                  label: 'COCO results',
                  name: `${stem}-coco-results.json`,
                  testId: 'download-coco',
                  make: () => jsonBlob(cocoResults(shownAnswer, shown, imageId)),
                },
              ]}
            />
            <div className="mt-2 flex items-center gap-2 text-xs text-slate-700" data-a11y-new>
              <label htmlFor={imageIdField}>COCO image id of this image</label>
              <input
                id={imageIdField}
                type="number"
                min={0}
                step={1}
                value={imageId}
                data-testid="coco-image-id"
                onChange={(e) => setImageId(Math.max(0, Math.floor(Number(e.target.value) || 0)))}
                className="w-20 rounded border border-slate-300 px-1 py-0.5"
              />
            </div>
          </>
        )}
      </AnswerPanel>
    </div>
  );
}
