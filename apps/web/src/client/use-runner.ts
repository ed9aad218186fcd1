'use client';
import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * The state of a page that answers for an image: the image, where it runs (server or page), the answer,
 * the error line, timing. `run` is called again when the image, the mode or `deps` change.
 */
export function useRunner<T>(run: (image: Blob, inBrowser: boolean) => Promise<T>, deps: unknown[] = []) {
  const [image, setImage] = useState<{ blob: Blob; url: string; name: string } | null>(null);
  const [inBrowser, setInBrowser] = useState(false);
  const [result, setResult] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [timing, setTiming] = useState<{ where: string; ms: number } | null>(null);
  const seq = useRef(0);

  const choose = useCallback((blob: Blob, name: string) => {
    setImage((old) => {
      if (old) URL.revokeObjectURL(old.url);
      return { blob, url: URL.createObjectURL(blob), name };
    });
  }, []);

  useEffect(() => {
    if (!image) return;
    const mine = ++seq.current;
    setBusy(true);
    setError(null);
    const t0 = performance.now();
    run(image.blob, inBrowser)
      .then((r) => {
        if (mine !== seq.current) return;
        setResult(r);
        setTiming({ where: inBrowser ? 'page (in-browser tfjs)' : 'server', ms: performance.now() - t0 });
      })
      .catch((e: Error) => {
        if (mine !== seq.current) return;
        setResult(null);
        setError(e.message);
      })
      .finally(() => mine === seq.current && setBusy(false));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [image, inBrowser, ...deps]);

  return { image, choose, inBrowser, setInBrowser, result, error, busy, timing };
}
