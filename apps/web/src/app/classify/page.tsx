'use client';
import { useState } from 'react';
import type { ClassificationPredictor } from '@cv/tasks-classify/predict';
import { postImage } from '../../client/api';
import { AnswerPanel, ErrorLine, ImageInput, ModelSelect, ModeToggle } from '../../client/components';
import { useRunner } from '../../client/use-runner';
import { type ClassifyAnswer, classifyAnswer } from '../../shared/results';

const MODELS = [
  { id: 'fashion-mnist', title: 'Fashion-MNIST (clothes)' },
  { id: 'mnist', title: 'MNIST (digits)' },
];

export default function ClassifyPage() {
  const [model, setModel] = useState('fashion-mnist');
  const [backend, setBackend] = useState<string>();
  const r = useRunner<ClassifyAnswer>(
    async (image, inBrowser) => {
      if (!inBrowser) return postImage<ClassifyAnswer>('classify', image, { model });
      const rt = await import('../../client/runtime');
      setBackend(await rt.browserBackend());
      const predictor = await rt.browserPredictor<ClassificationPredictor>(model);
      const [p] = predictor.predict([await rt.decodeInPage(image)], 5);
      return classifyAnswer(model, p);
    },
    [model],
  );
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Classify</h1>
        <div className="flex flex-wrap items-center gap-4">
          <ModelSelect ids={MODELS} value={model} onChange={setModel} />
          <ModeToggle inBrowser={r.inBrowser} onChange={r.setInBrowser} backend={backend} />
        </div>
        <ImageInput kinds={['fashion', 'mnist']} onImage={r.choose} busy={r.busy} />
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
          <p className="text-sm text-slate-600">{r.busy ? 'Classifying…' : 'Choose an image to see its five most likely classes.'}</p>
        )}
      </AnswerPanel>
    </div>
  );
}
