'use client';
import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { DecodedImage } from '@cv/engine/core';
import type { SegmentationPredictor } from '@cv/tasks-segment/predict';
import { decodeIndexPng, postImage } from '../../client/api';
import { AnswerPanel, Downloads, ErrorLine, jsonBlob, LoadProgress, ModelSelect, ModeToggle, Slider, useTaskModels } from '../../client/components';
import { Gallery, ImageInput } from '../../client/inputs';
import { annotatedPng, indexMaskPng, maskImage } from '../../client/draw';
import { useRunner } from '../../client/use-runner';
import { Webcam } from '../../client/webcam';
import { type SegmentSummary, segmentSummary } from '../../shared/results';

const DEFAULT_MODEL = { id: 'shapes-segment', title: 'Shapes U-Net segmenter' };

type Segmented = SegmentSummary & { mask: Uint8Array };
type View = 'overlay' | 'mask' | 'side';
const VIEWS: [View, string][] = [
  ['overlay', 'Overlay'],
  ['mask', 'Mask only'],
  ['side', 'Side by side'],
];

/** Paints a mask over whatever the context holds: `alpha` of the class colours (background left as it is). */
function paintMask(ctx: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D, res: Segmented, alpha: number): void {
  const layer = new OffscreenCanvas(res.width, res.height);
  layer.getContext('2d')!.putImageData(maskImage(res.mask, res.width, res.height, res.colours, 1, true), 0, 0);
  ctx.save();
  ctx.globalAlpha = alpha;
  ctx.drawImage(layer, 0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.restore();
}

export default function SegmentPage() {
  const models = useTaskModels('segment', DEFAULT_MODEL);
  const [model, setModel] = useState(DEFAULT_MODEL.id);
  // A model with no in-browser copy (an ONNX model the operator added) is always answered by the server.
  const serverOnly = models.find((m) => m.id === model)?.serverOnly === true;
  const [opacity, setOpacity] = useState(0.6);
  const [view, setView] = useState<View>('overlay');
  const [backend, setBackend] = useState<string>();
  const [loading, setLoading] = useState<number | null>(null);
  const viewGroup = useId();
  const canvas = useRef<HTMLCanvasElement>(null);

  const answerFor = useCallback(
    async (image: DecodedImage, decodeMs: number): Promise<Segmented> => {
      const rt = await import('../../client/runtime');
      setBackend(await rt.browserBackend());
      const predictor = await rt.browserPredictor<SegmentationPredictor>(model, setLoading);
      const [res] = await predictor.predictAsync([image]);
      return {
        ...segmentSummary(model, predictor.metadata.classNames, predictor.metadata.colours, res),
        mask: res.mask,
        timing: rt.pageStages(decodeMs, predictor),
      };
    },
    [model],
  );

  const r = useRunner<Segmented>(
    async (image, inBrowser) => {
      if (!inBrowser || serverOnly) {
        const answer = await postImage<SegmentSummary & { mask: string }>('segment', image, { model });
        return { ...answer, mask: (await decodeIndexPng(answer.mask)).mask };
      }
      const rt = await import('../../client/runtime');
      const { image: img, ms } = await rt.timedDecode(image);
      return answerFor(img, ms);
    },
    [model, serverOnly],
  );
  const res = r.result;

  useEffect(() => {
    const c = canvas.current;
    if (!c || !res || r.live) return;
    c.width = res.width;
    c.height = res.height;
    // Mask only and side by side show the legend's colours exactly; the overlay shows them at `opacity`.
    c.getContext('2d')!.putImageData(maskImage(res.mask, res.width, res.height, res.colours, view === 'overlay' ? opacity : 1, view === 'overlay'), 0, 0);
  }, [res, opacity, view, r.live]);

  const stem = (r.image?.name ?? 'webcam').replace(/\.[^.]+$/, '');
  const image = r.image;
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="min-w-0 space-y-4">
        <h1 className="text-2xl font-semibold">Segment</h1>
        <p className="text-sm text-slate-700">
          The U-Net labels every pixel as background, circle, square or triangle; the mask comes back at the image&apos;s own size.
        </p>
        <div className="flex flex-wrap items-center gap-4">
          <ModelSelect ids={models} value={model} onChange={setModel} />
          <ModeToggle inBrowser={r.inBrowser} onChange={r.setInBrowser} backend={backend} />
        </div>
        <LoadProgress fraction={loading} />
        <ImageInput kinds={['shapes']} onImages={r.chooseMany} busy={r.busy} />
        <Webcam<Segmented> run={(frame) => answerFor(frame, 0)} draw={(ctx, a) => paintMask(ctx, a, opacity)} onResult={(a, ms) => r.setLive(a, ms)} />
        <div className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" data-a11y-new>
          <fieldset className="flex flex-wrap items-center gap-4 text-sm">
            <legend className="sr-only">View</legend>
            {VIEWS.map(([v, label]) => (
              <label key={v} className="inline-flex min-h-6 items-center gap-1 text-slate-800">
                <input type="radio" name={viewGroup} value={v} checked={view === v} onChange={() => setView(v)} data-testid={`view-${v}`} className="h-4 w-4" />
                {label}
              </label>
            ))}
          </fieldset>
          <Slider label="Mask opacity" testId="opacity" value={opacity} min={0} max={1} step={0.05} onChange={setOpacity} />
        </div>
        <Gallery
          items={r.items}
          selected={r.selected}
          onSelect={r.setSelected}
          summary={(a) =>
            a.classes
              .slice(1)
              .map((c) => `${c} ${(a.coverage[c] * 100).toFixed(0)}%`)
              .join(', ')
          }
        />
        <ErrorLine error={r.error} />
      </div>
      <AnswerPanel json={res ? JSON.stringify({ ...res, mask: undefined }) : ''} busy={r.busy} timing={r.timing}>
        {image && res ? (
          <div className={view === 'side' ? 'grid grid-cols-2 gap-2' : ''} data-view={view}>
            <div className="relative inline-block w-full max-w-md">
              {view !== 'mask' && (
                // eslint-disable-next-line @next/next/no-img-element
                <img src={image.url} alt={`the image segmented: ${image.name}`} className="block w-full" />
              )}
              <canvas
                ref={canvas}
                data-testid="mask"
                className={view === 'overlay' ? 'absolute inset-0 h-full w-full' : view === 'mask' ? 'block w-full' : 'hidden'}
                role="img"
                aria-label={view === 'overlay' ? 'class mask overlay' : 'class mask'}
              />
            </div>
            {view === 'side' && <SideMask res={res} />}
          </div>
        ) : (
          <p className="text-sm text-slate-700">
            {r.live ? 'Live: the mask is drawn on the camera view.' : r.busy ? 'Segmenting…' : 'Choose an image to see its mask.'}
          </p>
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
        {res && (
          <Downloads
            files={[
              {
                label: 'Mask PNG (class indices)',
                name: `${stem}-mask.png`,
                testId: 'download-mask',
                make: () => indexMaskPng(res.mask, res.width, res.height),
              },
              ...(image
                ? [
                    {
                      label: 'Overlay PNG',
                      name: `${stem}-overlay.png`,
                      testId: 'download-overlay',
                      make: () => annotatedPng(image.blob, (ctx) => paintMask(ctx, res, opacity)),
                    },
                  ]
                : []),
              { label: 'Answer JSON', name: `${stem}-segment.json`, testId: 'download-json', make: () => jsonBlob({ ...res, mask: undefined }) },
            ]}
          />
        )}
      </AnswerPanel>
    </div>
  );
}

/** The mask beside the image, in the legend's own colours. */
function SideMask({ res }: { res: Segmented }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    if (!c) return;
    c.width = res.width;
    c.height = res.height;
    c.getContext('2d')!.putImageData(maskImage(res.mask, res.width, res.height, res.colours, 1, false), 0, 0);
  }, [res]);
  return <canvas ref={ref} data-testid="mask-side" className="block w-full max-w-md" role="img" aria-label="class mask" />;
}
