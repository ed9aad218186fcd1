'use client';
import { useEffect, useRef, useState } from 'react';
import type { SegmentationPredictor } from '@cv/tasks-segment/predict';
import { decodeIndexPng, postImage } from '../../client/api';
import { AnswerPanel, ErrorLine, ImageInput, ModeToggle, Slider } from '../../client/components';
import { useRunner } from '../../client/use-runner';
import { type SegmentSummary, segmentSummary } from '../../shared/results';

const MODEL = 'shapes-segment';

type Segmented = SegmentSummary & { mask: Uint8Array };

export default function SegmentPage() {
  const [opacity, setOpacity] = useState(0.6);
  const [backend, setBackend] = useState<string>();
  const canvas = useRef<HTMLCanvasElement>(null);
  const r = useRunner<Segmented>(async (image, inBrowser) => {
    if (!inBrowser) {
      const answer = await postImage<SegmentSummary & { mask: string }>('segment', image, { model: MODEL });
      return { ...answer, mask: (await decodeIndexPng(answer.mask)).mask };
    }
    const rt = await import('../../client/runtime');
    setBackend(await rt.browserBackend());
    const predictor = await rt.browserPredictor<SegmentationPredictor>(MODEL);
    const [res] = predictor.predict([await rt.decodeInPage(image)]);
    return { ...segmentSummary(MODEL, predictor.metadata.classNames, predictor.metadata.colours, res), mask: res.mask };
  });
  useEffect(() => {
    const c = canvas.current;
    const res = r.result;
    if (!c || !res) return;
    c.width = res.width;
    c.height = res.height;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(res.width, res.height);
    for (let i = 0; i < res.mask.length; i++) {
      const k = res.mask[i];
      const [red, green, blue] = res.colours[k] ?? [255, 255, 255];
      img.data.set([red, green, blue, k === 0 ? 0 : Math.round(opacity * 255)], i * 4);
    }
    ctx.putImageData(img, 0, 0);
  }, [r.result, opacity]);
  const res = r.result;
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Segment</h1>
        <p className="text-sm text-slate-700">
          The U-Net labels every pixel as background, circle, square or triangle; the mask comes back at the image&apos;s own size.
        </p>
        <ModeToggle inBrowser={r.inBrowser} onChange={r.setInBrowser} backend={backend} />
        <ImageInput kinds={['shapes']} onImage={r.choose} busy={r.busy} />
        <div className="rounded-lg border border-slate-200 bg-white p-4">
          <Slider label="Mask opacity" testId="opacity" value={opacity} min={0} max={1} step={0.05} onChange={setOpacity} />
        </div>
        <ErrorLine error={r.error} />
      </div>
      <AnswerPanel json={res ? JSON.stringify({ ...res, mask: undefined }) : ''} busy={r.busy} timing={r.timing}>
        {r.image && res ? (
          <div className="relative inline-block w-full max-w-md">
            {/* eslint-disable-next-line @next/next/no-img-element */}
            <img src={r.image.url} alt={`the image segmented: ${r.image.name}`} className="block w-full" />
            <canvas ref={canvas} data-testid="mask" className="absolute inset-0 h-full w-full" role="img" aria-label="class mask overlay" />
          </div>
        ) : (
          <p className="text-sm text-slate-600">{r.busy ? 'Segmenting…' : 'Choose an image to see its mask.'}</p>
        )}
        {res && (
          <table className="mt-4 text-sm" aria-label="Legend and pixel share per class">
            <thead>
              <tr>
                <th className="pr-6 text-left">class</th>
                <th className="text-right">pixels</th>
              </tr>
            </thead>
            <tbody>
              {res.classes.map((name, i) => (
                <tr key={name} data-testid={`share-${name}`}>
                  <td className="pr-6">
                    <span className="mr-2 inline-block h-3 w-3 rounded-sm border border-slate-300" style={{ background: `rgb(${res.colours[i].join(',')})` }} />
                    {name}
                  </td>
                  <td className="text-right">{(res.coverage[name] * 100).toFixed(1)} %</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </AnswerPanel>
    </div>
  );
}
