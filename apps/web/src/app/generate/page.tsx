'use client';
import { useCallback, useEffect, useId, useState } from 'react';
import { getJson } from '../../client/api';
import { Downloads, ErrorLine } from '../../client/components';

interface Generated {
  model: string;
  seed: number;
  shape: number[];
  images: string[];
}

function Strip({ images, testId, label }: { images: string[]; testId: string; label: string }) {
  return (
    <ul className="flex flex-wrap gap-1" data-testid={testId} aria-label={label}>
      {images.map((b64, i) => (
        <li key={i}>
          {/* eslint-disable-next-line @next/next/no-img-element */}
          <img
            src={`data:image/png;base64,${b64}`}
            alt={`${label}, image ${i + 1}`}
            width={56}
            height={56}
            className="h-14 w-14 rounded bg-black [image-rendering:pixelated]"
          />
        </li>
      ))}
    </ul>
  );
}

const MAX_SEED = 2 ** 31 - 2;

/** The images of an answer side by side in rows of `columns`, as one PNG (what the download saves). */
async function gridPng(images: string[], columns: number): Promise<Blob> {
  const bitmaps = await Promise.all(images.map(async (b64) => createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob())));
  const [w, h] = [bitmaps[0].width, bitmaps[0].height];
  const rows = Math.ceil(bitmaps.length / columns);
  const canvas = new OffscreenCanvas(w * columns, h * rows);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  bitmaps.forEach((b, i) => ctx.drawImage(b, (i % columns) * w, Math.floor(i / columns) * h));
  bitmaps.forEach((b) => b.close());
  return canvas.convertToBlob({ type: 'image/png' });
}

export default function GeneratePage() {
  const [seed, setSeed] = useState(1);
  const [seedText, setSeedText] = useState('1');
  const [seedError, setSeedError] = useState<string | null>(null);
  const [grid, setGrid] = useState<Generated | null>(null);
  const [strip, setStrip] = useState<Generated | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const load = useCallback(async (s: number) => {
    setError(null);
    try {
      const [g, st] = await Promise.all([getJson<Generated>(`/api/generate?n=16&seed=${s}`), getJson<Generated>(`/api/generate?n=10&seed=${s}&interpolate=1`)]);
      setGrid(g);
      setStrip(st);
    } catch (e) {
      setError((e as Error).message);
    }
  }, []);
  useEffect(() => {
    load(seed);
  }, [seed, load]);
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Generate</h1>
      <p className="text-sm text-slate-700">
        The MNIST DCGAN draws digits from latent vectors. The same seed gives the same digits on every backend; the strip walks the great circle between the
        latent vectors of seeds {seed} and {seed + 1}. (The shipped generator is unconditional, so there is no digit picker.)
      </p>
      <div className="flex items-center gap-3 text-sm">
        <label htmlFor={id}>Seed</label>
        <input
          id={id}
          data-testid="seed"
          type="number"
          min={0}
          max={MAX_SEED}
          step={1}
          value={seedText}
          aria-invalid={seedError !== null}
          aria-describedby={seedError ? `${id}-error` : undefined}
          onChange={(e) => {
            const text = e.target.value.trim();
            setSeedText(e.target.value);
            // Not clamped: a seed that is not a whole number from 0 up is said to be so, and nothing is drawn for it.
            if (!/^\d+$/.test(text) || Number(text) > MAX_SEED) {
              setSeedError(`the seed must be a whole number from 0 to ${MAX_SEED} (got '${text.slice(0, 20)}'); the samples shown are still seed ${seed}'s`);
              return;
            }
            setSeedError(null);
            setSeed(Number(text));
          }}
          className="w-28 rounded border border-slate-300 px-2 py-1"
        />
        <button
          type="button"
          data-testid="new-seed"
          onClick={() => {
            const s = Math.floor(Math.random() * 1e6);
            setSeedError(null);
            setSeedText(String(s));
            setSeed(s);
          }}
          className="rounded bg-blue-700 px-3 py-1.5 text-white hover:bg-blue-800"
        >
          New seed
        </button>
      </div>
      {seedError && (
        <p id={`${id}-error`} role="alert" data-testid="seed-error" className="rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800">
          {seedError}
        </p>
      )}
      <ErrorLine error={error} />
      <section aria-label="Samples" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">16 samples (seed {grid?.seed})</h2>
        {grid && <Strip images={grid.images} testId="grid" label={`samples of seed ${grid.seed}`} />}
        {grid && (
          <Downloads
            files={[{ label: 'Grid PNG (4 × 4)', name: `dcgan-seed-${grid.seed}-grid.png`, testId: 'download-grid', make: () => gridPng(grid.images, 4) }]}
          />
        )}
      </section>
      <section aria-label="Interpolation" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">
          Interpolation, seed {seed} → {seed + 1}
        </h2>
        {strip && <Strip images={strip.images} testId="strip" label="interpolation" />}
        {strip && (
          <Downloads
            files={[
              {
                label: 'Strip PNG',
                name: `dcgan-seed-${strip.seed}-interpolation.png`,
                testId: 'download-strip',
                make: () => gridPng(strip.images, strip.images.length),
              },
            ]}
          />
        )}
      </section>
    </div>
  );
}
