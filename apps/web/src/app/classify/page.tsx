'use client';
import { useState } from 'react';
import type { ClassificationPredictor } from '@cv/tasks-classify/predict';
import { postImage } from '../../client/api';
import { AnswerPanel, Downloads, ErrorLine, jsonBlob, LoadProgress, ModelSelect, ModeToggle, useTaskModels } from '../../client/components';
import { Gallery, ImageInput } from '../../client/inputs';
import { useRunner } from '../../client/use-runner';
import { type ClassifyAnswer, classifyAnswer } from '../../shared/results';
import type { Sample } from '../../shared/samples';

/** Digits are what people draw and photograph first; a sample picks the model made for its kind. */
const DEFAULT_MODEL = { id: 'mnist', title: 'MNIST digit classifier' };
const MODEL_OF_KIND: Partial<Record<Sample['kind'], string>> = { mnist: 'mnist', fashion: 'fashion-mnist' };

export default function ClassifyPage() {
  const models = useTaskModels('classify', DEFAULT_MODEL);
  const [model, setModel] = useState(DEFAULT_MODEL.id);
  // A model with no in-browser copy (an ONNX model the operator added) is always answered by the server.
  const serverOnly = models.find((m) => m.id === model)?.serverOnly === true;
  const [backend, setBackend] = useState<string>();
  const [loading, setLoading] = useState<number | null>(null);
  const r = useRunner<ClassifyAnswer>(
    async (image, inBrowser) => {
      if (!inBrowser || serverOnly) return postImage<ClassifyAnswer>('classify', image, { model });
      const rt = await import('../../client/runtime');
      setBackend(await rt.browserBackend());
      const predictor = await rt.browserPredictor<ClassificationPredictor>(model, setLoading);
      const { image: img, ms } = await rt.timedDecode(image);
      const [p] = await predictor.predictAsync([img], 5);
      return { ...classifyAnswer(model, p), timing: rt.pageStages(ms, predictor) };
    },
    [model, serverOnly],
  );
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Classify</h1>
        <div className="flex flex-wrap items-center gap-4">
          <ModelSelect ids={models} value={model} onChange={setModel} />
          <ModeToggle inBrowser={r.inBrowser} onChange={r.setInBrowser} backend={backend} />
        </div>
        <p className="text-sm text-slate-700">
          Both models read 28 × 28 grey images: MNIST knows handwritten digits, Fashion-MNIST ten kinds of clothing. Choose the one made for your image (a
          sample chooses its own).
        </p>
        <LoadProgress fraction={loading} />
        <ImageInput
          kinds={['mnist', 'fashion']}
          onImages={r.chooseMany}
          busy={r.busy}
          onSample={(s) => MODEL_OF_KIND[s.kind] && setModel(MODEL_OF_KIND[s.kind]!)}
        />
        <Gallery
          items={r.items}
          selected={r.selected}
          onSelect={r.setSelected}
          summary={(a) => `${a.top[0].label} ${(a.top[0].probability * 100).toFixed(0)} %`}
        />
        <ErrorLine error={r.error} />
      </div>
      <AnswerPanel json={r.result ? JSON.stringify(r.result) : ''} busy={r.busy} timing={r.timing}>
        {r.image && (
          // eslint-disable-next-line @next/next/no-img-element
          <img
            src={r.image.url}
            alt={`the image to classify: ${r.image.name}`}
            className="mb-4 h-40 w-40 rounded border border-slate-200 object-contain [image-rendering:pixelated]"
          />
        )}
        {r.result ? (
          <ol className="space-y-2" aria-label="Top-5 classes">
            {r.result.top.map((t, i) => (
              <li key={t.label} data-testid="top" className="text-sm">
                <div className="flex justify-between">
                  <span className={i === 0 ? 'font-semibold' : ''} data-testid="top-label">
                    {t.label}
                  </span>
                  <span>{(t.probability * 100).toFixed(1)} %</span>
                </div>
                <div className="h-3 rounded bg-slate-100">
                  <div className="h-3 rounded bg-blue-700" style={{ width: `${Math.max(0.5, t.probability * 100)}%` }} />
                </div>
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-sm text-slate-700">{r.busy ? 'Classifying…' : 'Choose an image to see its five most likely classes.'}</p>
        )}
        {r.result && (
          <Downloads
            files={[
              {
                label: 'Answer JSON',
                name: `${(r.image?.name ?? 'image').replace(/\.[^.]+$/, '')}-classes.json`,
                testId: 'download-json',
                make: () => jsonBlob(r.result),
              },
            ]}
          />
        )}
      </AnswerPanel>
    </div>
  );
}
