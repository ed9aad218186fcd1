'use client';
import { useCallback, useEffect, useId, useState } from 'react';
import { getJson } from '../../client/api';
import { ErrorLine } from '../../client/components';

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

export default function GeneratePage() {
  const [seed, setSeed] = useState(1);
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
          value={seed}
          onChange={(e) => setSeed(Math.max(0, Math.floor(Number(e.target.value) || 0)))}
          className="w-24 rounded border border-slate-300 px-2 py-1"
        />
        <button
          type="button"
          data-testid="new-seed"
          onClick={() => setSeed(Math.floor(Math.random() * 1e6))}
          className="rounded bg-blue-700 px-3 py-1.5 text-white hover:bg-blue-800"
        >
          New seed
        </button>
      </div>
      <ErrorLine error={error} />
      <section aria-label="Samples" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">16 samples (seed {grid?.seed})</h2>
        {grid && <Strip images={grid.images} testId="grid" label={`samples of seed ${grid.seed}`} />}
      </section>
      <section aria-label="Interpolation" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">
          Interpolation, seed {seed} → {seed + 1}
        </h2>
        {strip && <Strip images={strip.images} testId="strip" label="interpolation" />}
      </section>
    </div>
  );
}
