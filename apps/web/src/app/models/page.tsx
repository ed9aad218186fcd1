'use client';
import { useEffect, useState } from 'react';
import { getJson } from '../../client/api';
import { ErrorLine } from '../../client/components';

interface ModelsAnswer {
  models: { id: string; task: string; title: string; classes: string[]; architecture: string | null; input: (number | null)[]; sizeBytes: number; url: string }[];
  backend: { name: string; kernels: string; threads: number; line: string };
  loadMs: number;
  diagnostics?: { queue: { waiting: number; running: number; concurrency: number; maxWaiting: number }; rssBytes: number };
}

export default function ModelsPage() {
  const [data, setData] = useState<ModelsAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [page, setPage] = useState<string | null>(null);
  useEffect(() => {
    getJson<ModelsAnswer>('/api/models').then(setData, (e: Error) => setError(e.message));
  }, []);
  async function startPage() {
    const rt = await import('../../client/runtime');
    const name = await rt.browserBackend();
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    setPage(name === 'wasm' ? `wasm, ${wasm.getThreadsCount()} thread(s), engine training kernels registered` : name);
  }
  return (
    <div className="space-y-4">
      <h1 className="text-2xl font-semibold">Models</h1>
      <ErrorLine error={error} />
      {data && (
        <>
          <section aria-label="Server" className="rounded-lg border border-slate-200 bg-white p-4 text-sm">
            <h2 className="mb-1 font-medium">Server</h2>
            <p data-testid="server-backend">
              backend <b>{data.backend.name}</b> · kernels <b>{data.backend.kernels}</b> · threads <b>{data.backend.threads}</b>
            </p>
            <p className="mt-1 text-xs text-slate-600">{data.backend.line}</p>
            <p className="mt-1 text-xs text-slate-600">
              models loaded once in {data.loadMs.toFixed(0)} ms
              {data.diagnostics && (
                <>
                  {' '}
                  · process RSS {(data.diagnostics.rssBytes / 1048576).toFixed(0)} MB · queue: {data.diagnostics.queue.running} running,{' '}
                  {data.diagnostics.queue.waiting} waiting (at most {data.diagnostics.queue.concurrency} at once, {data.diagnostics.queue.maxWaiting} waiting)
                </>
              )}
            </p>
          </section>
          <div className="max-w-full overflow-x-auto" tabIndex={0} role="region" aria-label="Models table"><table className="w-full rounded-lg border border-slate-200 bg-white text-sm" data-testid="models-table">
            <thead>
              <tr>
                {['id', 'task', 'architecture', 'input', 'classes', 'size'].map((h) => (
                  <th key={h} className="border-b border-slate-300 px-2 py-1 text-left">
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.models.map((m) => (
                <tr key={m.id}>
                  <td className="px-2 py-1 font-mono">{m.id}</td>
                  <td className="px-2 py-1">{m.task}</td>
                  <td className="px-2 py-1">{m.architecture ?? '—'}</td>
                  <td className="px-2 py-1 font-mono">[{m.input.map((d) => d ?? '?').join(', ')}]</td>
                  <td className="px-2 py-1">{m.classes.length ? m.classes.join(', ') : '—'}</td>
                  <td className="px-2 py-1">{(m.sizeBytes / 1048576).toFixed(2)} MB</td>
                </tr>
              ))}
            </tbody>
          </table></div>
        </>
      )}
      <section aria-label="This page" className="rounded-lg border border-slate-200 bg-white p-4 text-sm">
        <h2 className="mb-1 font-medium">This page</h2>
        {page ? (
          <p data-testid="page-backend">tfjs {page}</p>
        ) : (
          <button type="button" onClick={startPage} className="rounded bg-blue-700 px-3 py-1.5 text-white hover:bg-blue-800">
            Start the in-page tfjs
          </button>
        )}
      </section>
    </div>
  );
}
