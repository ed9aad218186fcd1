'use client';
import { useId } from 'react';
import { samples, type Sample } from '../shared/samples';

/** An upload field and sample thumbnails; gives the chosen image as a Blob with its object URL. */
export function ImageInput({ kinds, onImage, busy }: { kinds: Sample['kind'][]; onImage: (file: Blob, name: string) => void; busy?: boolean }) {
  const id = useId();
  const picks = samples.filter((s) => kinds.includes(s.kind));
  return (
    <section aria-label="Choose an image" className="rounded-lg border border-slate-200 bg-white p-4">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        Upload an image (PNG, JPEG or WebP, up to 10 MB and 4096 × 4096)
      </label>
      <input
        id={id}
        data-testid="upload"
        type="file"
        accept="image/png,image/jpeg,image/webp"
        disabled={busy}
        className="mt-2 block w-full text-sm text-slate-800 file:mr-3 file:rounded file:border-0 file:bg-blue-700 file:px-3 file:py-1.5 file:text-white"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) onImage(f, f.name);
          e.target.value = '';
        }}
      />
      <p className="mt-3 text-sm text-slate-700">or pick a sample:</p>
      <ul className="mt-1 flex flex-wrap gap-2">
        {picks.map((s) => (
          <li key={s.file}>
            <button
              type="button"
              data-testid={`sample-${s.file}`}
              disabled={busy}
              title={s.title}
              className="rounded border border-slate-300 p-0.5 hover:border-blue-600 focus:outline-2 focus:outline-blue-700"
              onClick={async () => onImage(await (await fetch(`/samples/${s.file}`)).blob(), s.file)}
            >
              {/* eslint-disable-next-line @next/next/no-img-element */}
              <img src={`/samples/${s.file}`} alt={s.title} width={48} height={48} className="h-12 w-12 object-contain [image-rendering:pixelated]" />
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

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
export function AnswerPanel({
  json,
  busy,
  timing,
  children,
}: {
  json: string;
  busy: boolean;
  timing: { where: string; ms: number } | null;
  children: React.ReactNode;
}) {
  return (
    <section aria-label="Answer" className="rounded-lg border border-slate-200 bg-white p-4" data-testid="answer" data-json={json} aria-busy={busy}>
      {children}
      <Provenance where={timing?.where ?? null} ms={timing?.ms ?? null} />
    </section>
  );
}

/** Where the answer came from and how long it took. */
export function Provenance({ where, ms }: { where: string | null; ms: number | null }) {
  if (!where) return null;
  return (
    <p className="mt-2 text-xs text-slate-600" data-testid="provenance">
      answered by the {where} in {ms?.toFixed(0)} ms
    </p>
  );
}
