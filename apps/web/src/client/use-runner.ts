'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StageTiming } from '../shared/results';

/** Where an answer came from, how long it took in all (as the page saw it) and by stage (as the answering side measured). */
export interface Timing {
  where: string;
  ms: number;
  stages?: StageTiming;
}

/** One chosen image and its answer. */
export interface RunItem<T> {
  blob: Blob;
  url: string;
  name: string;
  result: T | null;
  error: string | null;
  timing: Timing | null;
}

/**
 * The state of a page that answers for images: the chosen images (one, or a gallery of several), where they run
 * (server or page), each one's answer, error and timing, the one shown, and a live answer (the webcam) that takes
 * the shown one's place while it runs. `run` is called for every image again when the mode or `deps` change.
 */
export function useRunner<T extends { timing?: StageTiming }>(run: (image: Blob, inBrowser: boolean) => Promise<T>, deps: unknown[] = []) {
  const [items, setItems] = useState<RunItem<T>[]>([]);
  const [selected, setSelected] = useState(0);
  const [inBrowser, setInBrowser] = useState(false);
  const [busy, setBusy] = useState(false);
  const [live, setLiveState] = useState<{ result: T; timing: Timing } | null>(null);
  const seq = useRef(0);
  // The images as chosen (a new choice starts a new round of answers; answers alone do not).
  const [chosen, setChosen] = useState<{ blob: Blob; url: string; name: string }[]>([]);

  const chooseMany = useCallback((files: { blob: Blob; name: string }[]) => {
    if (!files.length) return;
    setLiveState(null);
    setChosen((old) => {
      for (const o of old) URL.revokeObjectURL(o.url);
      return files.map((f) => ({ blob: f.blob, name: f.name, url: URL.createObjectURL(f.blob) }));
    });
    setSelected(0);
  }, []);
  const choose = useCallback((blob: Blob, name: string) => chooseMany([{ blob, name }]), [chooseMany]);

  useEffect(() => {
    if (!chosen.length) return;
    const mine = ++seq.current;
    setItems(chosen.map((c) => ({ ...c, result: null, error: null, timing: null })));
    setBusy(true);
    (async () => {
      for (let i = 0; i < chosen.length; i++) {
        const t0 = performance.now();
        let patch: Partial<RunItem<T>>;
        try {
          const result = await run(chosen[i].blob, inBrowser);
          patch = { result, timing: { where: inBrowser ? 'page (in-browser tfjs)' : 'server', ms: performance.now() - t0, stages: result.timing } };
        } catch (e) {
          patch = { error: (e as Error).message };
        }
        if (mine !== seq.current) return;
        setItems((old) => old.map((it, j) => (j === i ? { ...it, ...patch } : it)));
      }
      if (mine === seq.current) setBusy(false);
    })();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [chosen, inBrowser, ...deps]);

  /** The webcam's answer for its latest frame (null when it stops). */
  const setLive = useCallback((result: T | null, ms = 0) => {
    setLiveState(result ? { result, timing: { where: 'page (webcam, in-browser tfjs)', ms, stages: result.timing } } : null);
  }, []);

  const item = items[Math.min(selected, items.length - 1)] ?? null;
  return {
    /** The shown image (null while the webcam runs or before any choice). */
    image: live ? null : item,
    items,
    selected,
    setSelected,
    choose,
    chooseMany,
    inBrowser,
    setInBrowser,
    result: live ? live.result : (item?.result ?? null),
    error: live ? null : (item?.error ?? null),
    busy: !live && busy && !item?.result && !item?.error,
    timing: live ? live.timing : (item?.timing ?? null),
    live: live !== null,
    setLive,
  };
}
