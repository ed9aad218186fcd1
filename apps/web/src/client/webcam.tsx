'use client';
import { useEffect, useRef, useState } from 'react';
import type { DecodedImage } from '@cv/engine/core';

/** Frames are taken at most this many pixels a side (every shipped model's input is far smaller). */
const FRAME_SIDE = 640;

/** Why the camera did not start, in words a user can act on. */
function cameraError(e: unknown): string {
  const name = (e as { name?: string })?.name;
  if (name === 'NotAllowedError') return "the camera was not allowed; allow it in the browser's site settings and press Start again";
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'no camera was found; connect one and press Start again';
  if (name === 'NotReadableError') return 'the camera is in use by another program; close it and press Start again';
  return `the camera did not start (${(e as Error)?.message ?? String(e)})`;
}

/**
 * Live answers from the webcam, in the page: each frame is taken from the video, answered by `run` (the page's
 * own tfjs), drawn with `draw` over that same frame, and handed to `onResult`; the next frame is taken when the
 * answer is in, so it runs at the model's speed. Shows frames per second.
 */
export function Webcam<T>({
  run,
  draw,
  onResult,
}: {
  run: (frame: DecodedImage) => Promise<T>;
  draw: (ctx: CanvasRenderingContext2D, result: T) => void;
  onResult: (result: T | null, ms: number) => void;
}) {
  const [on, setOn] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fps, setFps] = useState<number | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  const view = useRef<HTMLCanvasElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const running = useRef(false);
  // The latest functions, so the loop started once uses what the page passes now.
  const fns = useRef({ run, draw, onResult });
  fns.current = { run, draw, onResult };

  const stop = () => {
    running.current = false;
    stream.current?.getTracks().forEach((t) => t.stop());
    stream.current = null;
    setOn(false);
    setFps(null);
    fns.current.onResult(null, 0);
  };
  useEffect(() => () => stop(), []); // eslint-disable-line react-hooks/exhaustive-deps

  async function start() {
    setError(null);
    if (!navigator.mediaDevices?.getUserMedia) {
      setError('this browser gives no camera to this page (the camera needs https, or localhost)');
      return;
    }
    try {
      stream.current = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    } catch (e) {
      setError(cameraError(e));
      return;
    }
    const v = video.current!;
    v.srcObject = stream.current;
    await v.play();
    setOn(true);
    running.current = true;
    loop();
  }

  async function loop() {
    const grab = document.createElement('canvas');
    const gctx = grab.getContext('2d', { willReadFrequently: true })!;
    let frames = 0;
    let since = performance.now();
    while (running.current) {
      const v = video.current;
      const c = view.current;
      if (!v || !c) break;
      if (v.readyState >= 2 && v.videoWidth > 0) {
        const s = Math.min(1, FRAME_SIDE / Math.max(v.videoWidth, v.videoHeight));
        const w = Math.round(v.videoWidth * s);
        const h = Math.round(v.videoHeight * s);
        if (grab.width !== w || grab.height !== h) [grab.width, grab.height] = [w, h];
        gctx.drawImage(v, 0, 0, w, h);
        const { data } = gctx.getImageData(0, 0, w, h);
        const t0 = performance.now();
        try {
          const result = await fns.current.run({ data: new Uint8Array(data.buffer), width: w, height: h, channels: 4 });
          if (!running.current) break;
          const ms = performance.now() - t0;
          if (c.width !== w || c.height !== h) [c.width, c.height] = [w, h];
          const ctx = c.getContext('2d')!;
          ctx.drawImage(grab, 0, 0);
          fns.current.draw(ctx, result);
          fns.current.onResult(result, ms);
        } catch (e) {
          setError((e as Error).message);
          stop();
          break;
        }
        frames++;
        const now = performance.now();
        if (now - since >= 1000) {
          setFps((frames * 1000) / (now - since));
          frames = 0;
          since = now;
        }
      }
      await new Promise((r) => requestAnimationFrame(r));
    }
  }

  return (
    <section aria-label="Webcam" className="rounded-lg border border-slate-200 bg-white p-4" data-a11y-new>
      <div className="flex flex-wrap items-center gap-3 text-sm">
        <button
          type="button"
          data-testid="webcam-toggle"
          onClick={() => (on ? stop() : start())}
          className="min-h-6 rounded bg-blue-700 px-3 py-1.5 text-white hover:bg-blue-800"
        >
          {on ? 'Stop the camera' : 'Start the camera'}
        </button>
        <span className="text-slate-700">live, in this browser</span>
        {on && (
          <span data-testid="fps" data-value={fps ?? ''} className="font-mono text-slate-900">
            {fps === null ? '… FPS' : `${fps.toFixed(1)} FPS`}
          </span>
        )}
      </div>
      {error && (
        <p role="alert" data-testid="webcam-error" className="mt-2 text-sm text-red-800">
          {error}
        </p>
      )}
      <video ref={video} muted playsInline className="hidden" aria-hidden="true" />
      <canvas
        ref={view}
        data-testid="webcam-canvas"
        className={on ? 'mt-3 block w-full max-w-md rounded' : 'hidden'}
        role="img"
        aria-label="camera frame with answers"
      />
    </section>
  );
}
