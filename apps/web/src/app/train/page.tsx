'use client';
import { useEffect, useId, useRef, useState } from 'react';
import type * as tfTypes from '@tensorflow/tfjs';
import { Downloads, ErrorLine } from '../../client/components';
import type { Progress } from '../../client/train-cnn';
import { HELD_OUT_DIGITS, TRAIN_DIGITS } from '../../shared/samples';

/** Loss and accuracy per batch as two SVG polylines (loss scaled to its first value). */
function Curve({ points }: { points: { loss: number; acc: number }[] }) {
  const W = 480;
  const H = 160;
  if (points.length < 2) return <div className="h-40 rounded bg-slate-100" />;
  const maxLoss = Math.max(...points.map((p) => p.loss));
  const line = (f: (p: { loss: number; acc: number }) => number) =>
    points.map((p, i) => `${((i / (points.length - 1)) * W).toFixed(1)},${(H - f(p) * H).toFixed(1)}`).join(' ');
  return (
    <svg viewBox={`0 0 ${W} ${H}`} className="h-40 w-full rounded bg-slate-50" role="img" aria-label="training loss and accuracy per batch" data-testid="curve">
      <polyline points={line((p) => p.loss / maxLoss)} fill="none" stroke="#b91c1c" strokeWidth="1.5" />
      <polyline points={line((p) => p.acc)} fill="none" stroke="#1d4ed8" strokeWidth="1.5" />
      <text x="6" y="14" fontSize="11" fill="#b91c1c">
        loss (÷ {maxLoss.toFixed(2)})
      </text>
      <text x="6" y="28" fontSize="11" fill="#1d4ed8">
        batch accuracy
      </text>
    </svg>
  );
}

export default function TrainPage() {
  const [epochs, setEpochs] = useState(3);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [points, setPoints] = useState<{ loss: number; acc: number }[]>([]);
  const [state, setState] = useState<'idle' | 'training' | 'done'>('idle');
  const [backend, setBackend] = useState<string>();
  const [error, setError] = useState<string | null>(null);
  const [guess, setGuess] = useState<{ label: number; probability: number } | null>(null);
  const model = useRef<tfTypes.LayersModel | null>(null);
  const pad = useRef<HTMLCanvasElement>(null);
  const drawing = useRef(false);
  const id = useId();

  useEffect(() => clearPad(), []);

  function clearPad() {
    const c = pad.current;
    if (!c) return;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = 'black';
    ctx.fillRect(0, 0, c.width, c.height);
    setGuess(null);
  }

  async function train() {
    setState('training');
    setError(null);
    setPoints([]);
    try {
      const { trainInPage } = await import('../../client/train-cnn');
      model.current?.dispose();
      const out = await trainInPage(
        epochs,
        (p) => {
          setProgress(p);
          setPoints((old) => (p.batch && old.length < p.epoch * p.batches + p.batch ? [...old, { loss: p.loss, acc: p.acc }] : old));
        },
        setBackend,
      );
      model.current = out.model;
      setBackend(out.backend);
      setProgress(out.progress);
      setState('done');
    } catch (e) {
      setError((e as Error).message);
      setState('idle');
    }
  }

  async function classifyDrawing() {
    const c = pad.current;
    if (!c || !model.current) return;
    const { drawingToDigit } = await import('../../client/train-cnn');
    const { tf } = await import('../../client/runtime');
    const digit = drawingToDigit(c);
    if (!digit) return setError('draw a digit first');
    setError(null);
    const probs = tf.tidy(() => model.current!.predict(tf.tensor4d(digit, [1, 28, 28, 1])) as tfTypes.Tensor);
    const p = Array.from(await probs.data());
    probs.dispose();
    const label = p.indexOf(Math.max(...p));
    setGuess({ label, probability: p[label] });
  }

  function stroke(e: React.PointerEvent<HTMLCanvasElement>, start = false) {
    const c = pad.current!;
    const rect = c.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * c.width;
    const y = ((e.clientY - rect.top) / rect.height) * c.height;
    const ctx = c.getContext('2d')!;
    ctx.strokeStyle = 'white';
    ctx.lineWidth = 18;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    if (start) {
      ctx.beginPath();
      ctx.moveTo(x, y);
    }
    ctx.lineTo(x, y);
    ctx.stroke();
  }

  const heldOut = progress?.heldOut.at(-1);
  return (
    <div className="grid grid-cols-1 gap-6 lg:grid-cols-2">
      <div className="space-y-4">
        <h1 className="text-2xl font-semibold">Train a CNN in the browser</h1>
        <p className="text-sm text-slate-700">
          A small CNN (two 3 × 3 convolutions, max-pooling, a dense layer) trains in this page on {TRAIN_DIGITS.toLocaleString('en')} MNIST digits with tfjs on
          WebGPU where this browser has it (wasm otherwise) and the engine&apos;s training kernels — nothing is sent to the server. After each epoch it is
          scored on {HELD_OUT_DIGITS.toLocaleString('en')} held-out digits it never trains on.
        </p>
        <div className="flex items-center gap-3 text-sm">
          <label htmlFor={id}>Epochs</label>
          <select
            id={id}
            data-testid="epochs"
            value={epochs}
            onChange={(e) => setEpochs(Number(e.target.value))}
            disabled={state === 'training'}
            className="rounded border border-slate-300 bg-white px-2 py-1"
          >
            {[1, 2, 3, 4, 5].map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
          <button
            type="button"
            data-testid="train-start"
            onClick={train}
            disabled={state === 'training'}
            className="rounded bg-blue-700 px-3 py-1.5 text-white hover:bg-blue-800 disabled:bg-slate-400"
          >
            {state === 'training' ? 'Training…' : state === 'done' ? 'Train again' : 'Train'}
          </button>
        </div>
        <section aria-label="Training progress" className="rounded-lg border border-slate-200 bg-white p-4">
          <Curve points={points} />
          <p className="mt-2 text-sm" data-testid="train-status" data-state={state}>
            {progress
              ? `epoch ${Math.min(progress.epoch + (state === 'training' ? 1 : 0), epochs)}/${epochs} · batch ${progress.batch}/${progress.batches} · loss ${progress.loss.toFixed(3)} · ${progress.seconds.toFixed(1)} s`
              : 'not trained yet'}
            {backend && ` · tfjs ${backend}`}
          </p>
          <p className="mt-1 text-sm font-semibold" data-testid="held-out" data-value={heldOut ?? ''}>
            {heldOut !== undefined
              ? `held-out accuracy: ${(heldOut * 100).toFixed(1)} % (${progress!.heldOut.map((a) => (a * 100).toFixed(1)).join(' → ')})`
              : ''}
          </p>
          {state === 'done' && model.current && (
            <Downloads
              files={[
                {
                  label: 'Trained model (tfjs folder, zip)',
                  name: 'page-cnn.zip',
                  testId: 'download-model',
                  make: async () => (await import('../../client/train-cnn')).modelZip(model.current!, heldOut),
                },
              ]}
            />
          )}
        </section>
        <ErrorLine error={error} />
      </div>
      <section aria-label="Draw a digit" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 className="mb-2 font-medium">Draw a digit</h2>
        <canvas
          ref={pad}
          width={280}
          height={280}
          data-testid="pad"
          aria-label="drawing pad: draw a digit with the mouse or a finger"
          className="touch-none rounded border border-slate-300"
          onPointerDown={(e) => {
            drawing.current = true;
            stroke(e, true);
          }}
          onPointerMove={(e) => drawing.current && stroke(e)}
          onPointerUp={() => (drawing.current = false)}
          onPointerLeave={() => (drawing.current = false)}
        />
        <div className="mt-3 flex gap-3">
          <button
            type="button"
            data-testid="classify-drawing"
            disabled={state !== 'done'}
            onClick={classifyDrawing}
            className="rounded bg-blue-700 px-3 py-1.5 text-sm text-white hover:bg-blue-800 disabled:bg-slate-400"
          >
            Classify the drawing
          </button>
          <button type="button" onClick={clearPad} className="rounded border border-slate-300 px-3 py-1.5 text-sm">
            Clear
          </button>
        </div>
        <p className="mt-3 text-lg" data-testid="drawing-answer" data-label={guess?.label ?? ''}>
          {guess
            ? `The fresh model reads a ${guess.label} (${(guess.probability * 100).toFixed(0)} %)`
            : state === 'done'
              ? 'Draw, then classify.'
              : 'Train the model first.'}
        </p>
      </section>
    </div>
  );
}
