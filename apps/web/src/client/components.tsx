'use client';
/** The pages' shared controls and answer panel (image inputs: inputs.tsx; the webcam: webcam.tsx). */
import { useEffect, useId, useState } from 'react';
import type { ModelChoice, StageTiming } from '../shared/results';
import type { Timing } from './use-runner';

/** The server / in-browser switch. */
export function ModeToggle({ inBrowser, onChange, backend }: { inBrowser: boolean; onChange: (v: boolean) => void; backend?: string }) {
  return (
    <label className="inline-flex items-center gap-2 text-sm text-slate-800">
      <input type="checkbox" data-testid="in-browser" checked={inBrowser} onChange={(e) => onChange(e.target.checked)} className="h-4 w-4" />
      Run in this browser{inBrowser && backend ? ` (tfjs ${backend})` : ' (off: the server answers)'}
    </label>
  );
}

export function ErrorLine({ error }: { error: string | null }) {
  if (!error) return null;
  return (
    <p role="alert" data-testid="error" className="mt-3 rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
      {error}
    </p>
  );
}

export function Slider({
  label,
  value,
  min,
  max,
  step,
  onChange,
  testId,
}: {
  label: string;
  value: number;
  min: number;
  max: number;
  step: number;
  onChange: (v: number) => void;
  testId: string;
}) {
  const id = useId();
  return (
    <div className="flex items-center gap-3 text-sm">
      <label htmlFor={id} className="w-40 text-slate-800">
        {label}: <span data-testid={`${testId}-value`}>{value.toFixed(2)}</span>
      </label>
      <input
        id={id}
        data-testid={testId}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
        className="w-56"
      />
    </div>
  );
}

export function ModelSelect({ ids, value, onChange }: { ids: { id: string; title: string }[]; value: string; onChange: (id: string) => void }) {
  const id = useId();
  return (
    <div className="flex items-center gap-2 text-sm">
      <label htmlFor={id} className="text-slate-800">
        Model
      </label>
      <select
        id={id}
        data-testid="model"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        className="rounded border border-slate-300 bg-white px-2 py-1"
      >
        {ids.map((m) => (
          <option key={m.id} value={m.id}>
            {m.title}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The answer side of a task page: its JSON in `data-json` (what the e2e tests read), busy state, and provenance. */
export function AnswerPanel({ json, busy, timing, children }: { json: string; busy: boolean; timing: Timing | null; children: React.ReactNode }) {
  return (
    <section aria-label="Answer" className="min-w-0 rounded-lg border border-slate-200 bg-white p-4" data-testid="answer" data-json={json} aria-busy={busy}>
      {children}
      <Provenance timing={timing} />
    </section>
  );
}

const STAGE_NAMES: [keyof StageTiming, string][] = [
  ['decode', 'decode'],
  ['preprocess', 'pre-process'],
  ['inference', 'inference'],
  ['postprocess', 'post-process'],
];

/** Where the answer came from, how long it took, and (when the answering side measured them) its stages. */
export function Provenance({ timing }: { timing: Timing | null }) {
  if (!timing) return null;
  const s = timing.stages;
  return (
    <div className="mt-2 text-xs text-slate-700">
      <p data-testid="provenance">
        answered by the {timing.where} in {timing.ms.toFixed(0)} ms
      </p>
      {s && (
        <p data-testid="stages">
          {STAGE_NAMES.map(([k, name]) => (
            <span key={k} className="mr-3 inline-block" data-stage={k} data-ms={s[k]}>
              {name} {s[k].toFixed(1)} ms
            </span>
          ))}
        </p>
      )}
    </div>
  );
}

/** A row of download buttons; each makes its file only when pressed. */
export function Downloads({
  files,
  label = 'Download',
}: {
  files: { label: string; name: string; testId: string; make: () => Promise<Blob> | Blob }[];
  label?: string;
}) {
  const [error, setError] = useState<string | null>(null);
  if (!files.length) return null;
  return (
    <div className="mt-3 flex flex-wrap items-center gap-2 text-sm" role="group" aria-label={label} data-a11y-new>
      <span className="text-slate-800">{label}:</span>
      {files.map((f) => (
        <button
          key={f.testId}
          type="button"
          data-testid={f.testId}
          className="min-h-6 rounded border border-slate-400 px-2 py-1 text-slate-900 hover:border-blue-700 focus:outline-2 focus:outline-blue-700"
          onClick={async () => {
            setError(null);
            try {
              saveBlob(await f.make(), f.name);
            } catch (e) {
              setError(`${f.label}: ${(e as Error).message}`);
            }
          }}
        >
          {f.label}
        </button>
      ))}
      {error && (
        <span role="alert" className="text-red-800">
          {error}
        </span>
      )}
    </div>
  );
}

/** Saves a Blob as a file through the browser's download. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const jsonBlob = (value: unknown): Blob => new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });

/** The first load of an in-browser model: a progress bar while its weights arrive. */
export function LoadProgress({ fraction }: { fraction: number | null }) {
  if (fraction === null || fraction >= 1) return null;
  return (
    <div className="mt-2 text-xs text-slate-700" data-a11y-new>
      <label className="flex items-center gap-2">
        Loading the model into this page
        <progress data-testid="model-progress" value={fraction} max={1} className="h-2 w-40" />
        {Math.round(fraction * 100)} %
      </label>
    </div>
  );
}

/** The shipped models of a task as `/api/models` lists them (the default one until the list arrives). */
export function useTaskModels(task: string, fallback: ModelChoice): ModelChoice[] {
  const [list, setList] = useState<ModelChoice[]>([fallback]);
  useEffect(() => {
    let live = true;
    fetch('/api/models')
      .then((r) => (r.ok ? r.json() : null))
      .then((body: { models?: { id: string; task: string; title: string; url: string | null }[] } | null) => {
        const mine = body?.models?.filter((m) => m.task === task).map(({ id, title, url }) => ({ id, title, serverOnly: url === null }));
        if (live && mine?.length) setList(mine);
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [task]);
  return list;
}

/** A checkbox with its label, for the pages' display switches. */
export function Toggle({ label, checked, onChange, testId }: { label: string; checked: boolean; onChange: (v: boolean) => void; testId: string }) {
  return (
    <label className="inline-flex min-h-6 items-center gap-2 text-sm text-slate-800">
      <input type="checkbox" data-testid={testId} checked={checked} onChange={(e) => onChange(e.target.checked)} className="h-4 w-4" />
      {label}
    </label>
  );
}
