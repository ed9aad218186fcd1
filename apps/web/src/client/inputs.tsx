'use client';
/** Where a page's images come from: upload (several files), drag-and-drop and paste anywhere, samples; the gallery. */
import { useCallback, useEffect, useId, useState } from 'react';
import { samples, type Sample } from '../shared/samples';

const ACCEPTED = ['image/png', 'image/jpeg', 'image/webp'];

/** Image files among dropped or pasted items (the others are left out; none: the reason). */
function imageFiles(list: FileList | null | undefined): { files: { blob: Blob; name: string }[]; refused: string | null } {
  const all = [...(list ?? [])];
  const files = all.filter((f) => ACCEPTED.includes(f.type)).map((f) => ({ blob: f as Blob, name: f.name || 'pasted image' }));
  const refused = all.length && !files.length ? `${all.map((f) => f.name || f.type || 'the item').join(', ')}: not a PNG, JPEG or WebP image` : null;
  return { files, refused };
}

/**
 * Images dropped anywhere on the page or pasted (Ctrl+V) go to `onFiles`; `dragging` is true while files are
 * held over the page. Text fields keep their own paste.
 */
export function useDropAndPaste(onFiles: (files: { blob: Blob; name: string }[]) => void, onRefused: (why: string) => void, enabled = true) {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    if (!enabled) return;
    let depth = 0;
    const hasFiles = (e: DragEvent) => [...(e.dataTransfer?.types ?? [])].includes('Files');
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (!depth) setDragging(false);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const drop = (e: DragEvent) => {
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const { files, refused } = imageFiles(e.dataTransfer.files);
      if (files.length) onFiles(files);
      else if (refused) onRefused(refused);
    };
    const paste = (e: ClipboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target?.closest('input[type=text], input[type=number], textarea, [contenteditable=true]')) return;
      const { files, refused } = imageFiles(e.clipboardData?.files);
      if (!files.length && !refused) return;
      e.preventDefault();
      if (files.length) onFiles(files);
      else if (refused) onRefused(refused);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    document.addEventListener('paste', paste);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
      document.removeEventListener('paste', paste);
    };
  }, [onFiles, onRefused, enabled]);
  return dragging;
}

/**
 * Where images come from: an upload field (several files at once), drag-and-drop or paste anywhere on the page,
 * and sample thumbnails. Gives the chosen images as Blobs with their names.
 */
export function ImageInput({
  kinds,
  onImages,
  busy,
  onSample,
}: {
  kinds: Sample['kind'][];
  onImages: (files: { blob: Blob; name: string }[]) => void;
  busy?: boolean;
  /** Told which sample was picked (e.g. to pick the model that suits it). */
  onSample?: (sample: Sample) => void;
}) {
  const id = useId();
  const [refused, setRefused] = useState<string | null>(null);
  const take = useCallback(
    (files: { blob: Blob; name: string }[]) => {
      setRefused(null);
      onImages(files);
    },
    [onImages],
  );
  const dragging = useDropAndPaste(take, setRefused, !busy);
  const picks = samples.filter((s) => kinds.includes(s.kind));
  return (
    <section aria-label="Choose an image" className="rounded-lg border border-slate-200 bg-white p-4">
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        Upload images (PNG, JPEG or WebP, up to 10 MB and 4096 × 4096; several at once make a gallery)
      </label>
      <input
        id={id}
        data-testid="upload"
        type="file"
        multiple
        accept={ACCEPTED.join(',')}
        disabled={busy}
        className="mt-2 block w-full text-sm text-slate-800 file:mr-3 file:rounded file:border-0 file:bg-blue-700 file:px-3 file:py-1.5 file:text-white"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])].map((f) => ({ blob: f as Blob, name: f.name }));
          if (files.length) take(files);
          e.target.value = '';
        }}
      />
      <p className="mt-2 text-xs text-slate-700" data-testid="drop-hint">
        or drop images anywhere on this page, or paste one (Ctrl+V)
      </p>
      {refused && (
        <p role="alert" className="mt-2 text-sm text-red-800" data-testid="drop-refused">
          {refused}
        </p>
      )}
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
              onClick={async () => {
                onSample?.(s);
                take([{ blob: await (await fetch(`/samples/${s.file}`)).blob(), name: s.file }]);
              }}
            >
              {/* eslint-disable-next-line @next/next/no-img-element */}
              <img src={`/samples/${s.file}`} alt={s.title} width={48} height={48} className="h-12 w-12 object-contain [image-rendering:pixelated]" />
            </button>
          </li>
        ))}
      </ul>
      {dragging && (
        <div
          className="pointer-events-none fixed inset-0 z-50 flex items-center justify-center bg-blue-900/40 text-2xl font-semibold text-white"
          data-testid="drop-overlay"
        >
          Drop the images to answer for them
        </div>
      )}
    </section>
  );
}

/** The chosen images as a strip of thumbnails, each with its short answer; choosing one shows it in full. */
export function Gallery<T>({
  items,
  selected,
  onSelect,
  summary,
}: {
  items: { url: string; name: string; result: T | null; error: string | null }[];
  selected: number;
  onSelect: (i: number) => void;
  summary: (result: T) => string;
}) {
  if (items.length < 2) return null;
  return (
    <section aria-label="Gallery" className="rounded-lg border border-slate-200 bg-white p-4">
      <h2 className="mb-2 text-sm font-medium text-slate-800">
        {items.length} images ({items.filter((i) => i.result || i.error).length} answered)
      </h2>
      <ul className="grid grid-cols-2 gap-2 sm:grid-cols-3" data-testid="gallery">
        {items.map((it, i) => (
          <li key={it.url}>
            <button
              type="button"
              aria-pressed={i === selected}
              data-testid="gallery-item"
              data-done={it.result || it.error ? 'true' : 'false'}
              onClick={() => onSelect(i)}
              className={`w-full rounded border p-1 text-left text-xs ${i === selected ? 'border-blue-700 ring-2 ring-blue-700' : 'border-slate-300'}`}
            >
              {/* eslint-disable-next-line @next/next/no-img-element */}
              <img src={it.url} alt={it.name} className="h-20 w-full object-contain" />
              <span className="block truncate text-slate-800">{it.name}</span>
              <span className={`block truncate ${it.error ? 'text-red-800' : 'text-slate-700'}`} data-testid="gallery-summary">
                {it.error ? it.error : it.result ? summary(it.result) : '…'}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
