import fs from 'node:fs';
import path from 'node:path';
import Link from 'next/link';
import { marked } from 'marked';
import { repoRoot } from '../../server/catalogue';
import { COCO_STAT_NAMES, REPORTS, type ReportSource } from '../../shared/reports';

export const dynamic = 'force-static';
export const metadata = { title: 'Reports' };

const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(repoRoot(), file), 'utf8'));
const pct = (v: number) => (v < 0 ? '—' : v.toFixed(3));

/** Whether a report's plot was written: its file in the committed folder that scripts/prepare.ts copies from. */
function plotExists(source: ReportSource, file: string): boolean {
  const dir = source.dirs.find((d) => file.startsWith(`${d.to}/`));
  return !!dir && fs.existsSync(path.join(repoRoot(), dir.from, file.slice(dir.to.length + 1)));
}

function Table({ head, rows, label }: { head: string[]; rows: (string | number)[][]; label: string }) {
  return (
    <div className="max-w-full overflow-x-auto" tabIndex={0} role="region" aria-label={label}>
      <table className="my-3 text-sm" aria-label={label}>
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={h} className={`border-b border-slate-300 px-2 py-1 ${i ? 'text-right' : 'text-left'}`}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j} className={`border-b border-slate-100 px-2 py-1 ${j ? 'text-right tabular-nums' : ''}`}>
                  {c}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Metrics({ source }: { source: ReportSource }) {
  if (!source.report) return null;
  const r = readJson(source.report);
  if (source.task === 'detect') {
    return (
      <>
        <h3 className="mt-4 font-medium">
          COCO evaluation ({r.images} images, {r.detections} detections; coco-ts-api, equal to pycocotools)
        </h3>
        <Table label="COCO stats" head={['stat', 'value']} rows={r.stats.map((v: number, i: number) => [COCO_STAT_NAMES[i], pct(v)])} />
        <h3 className="mt-4 font-medium">Per class</h3>
        <Table
          label="AP per class"
          head={['class', 'AP50-95', 'AP50', 'AP75', 'AR']}
          rows={r.perCategory.map((c: { name: string; ap: number; ap50: number; ap75: number; ar: number }) => [
            c.name,
            pct(c.ap),
            pct(c.ap50),
            pct(c.ap75),
            pct(c.ar),
          ])}
        />
      </>
    );
  }
  if (source.task === 'segment') {
    return (
      <>
        <h3 className="mt-4 font-medium">
          mIoU {r.miou.toFixed(4)} (objects) · {r.miouAll.toFixed(4)} (with background) · pixel accuracy {r.pixelAccuracy.toFixed(4)} · mask AP{' '}
          {r.maskAp[0].toFixed(3)} ({r.images} images)
        </h3>
        <Table
          label="IoU and Dice per class"
          head={['class', 'IoU', 'Dice']}
          rows={Object.keys(r.perClassIou).map((c) => [c, r.perClassIou[c].toFixed(4), r.dice[c].toFixed(4)])}
        />
      </>
    );
  }
  return (
    <>
      <h3 className="mt-4 font-medium">
        Test accuracy {(r.accuracy * 100).toFixed(2)} % · top-5 {(r.top5Accuracy * 100).toFixed(2)} % ({r.testImages} test images; {r.split})
      </h3>
      <Table
        label="Per-class precision and recall"
        head={['class', 'precision', 'recall', 'F1', 'support']}
        rows={r.perClass.map((c: { className: string; precision: number; recall: number; f1: number; support: number }) => [
          c.className,
          c.precision.toFixed(3),
          c.recall.toFixed(3),
          c.f1.toFixed(3),
          c.support,
        ])}
      />
    </>
  );
}

export default function ReportsPage() {
  return (
    <div>
      <h1 className="text-2xl font-semibold">Reports</h1>
      <p className="mt-1 text-sm text-slate-700">
        The shipped models&apos; committed reports (docs/results) with the charts the command line writes. The{' '}
        <Link href="/reports/explorer" className="text-blue-800 underline">
          detection explorer
        </Link>{' '}
        recomputes precision, recall and the confusion matrix in this page as you move its sliders.
      </p>
      <nav aria-label="Reports" className="my-4 flex flex-wrap gap-3 text-sm">
        {REPORTS.map((r) => (
          <a key={r.id} href={`#${r.id}`} className="rounded border border-slate-300 bg-white px-2 py-1 hover:border-blue-600">
            {r.title}
          </a>
        ))}
      </nav>
      {REPORTS.map((source) => {
        const card = fs.readFileSync(path.join(repoRoot(), 'models', source.model, 'MODEL_CARD.md'), 'utf8');
        return (
          <section
            key={source.id}
            id={source.id}
            aria-labelledby={`${source.id}-title`}
            className="mb-8 rounded-lg border border-slate-200 bg-white p-4"
            data-testid={`report-${source.id}`}
          >
            <h2 id={`${source.id}-title`} className="text-xl font-semibold">
              {source.title}
            </h2>
            <Metrics source={source} />
            <div className="mt-4 grid grid-cols-1 gap-4 md:grid-cols-2">
              {source.plots.map((p) =>
                !plotExists(source, p.file) && p.absent ? (
                  <p key={p.file} className="rounded border border-slate-100 p-2 text-sm text-slate-700" data-testid="plot-absent">
                    <span className="font-medium">{p.title}:</span> {p.absent}
                  </p>
                ) : (
                  <figure key={p.file} className="rounded border border-slate-100 p-2">
                    {/* eslint-disable-next-line @next/next/no-img-element */}
                    <img src={`/reports/${source.id}/${p.file}`} alt={p.title} className="w-full" loading="lazy" />
                    <figcaption className="mt-1 text-xs text-slate-600">{p.title}</figcaption>
                  </figure>
                ),
              )}
            </div>
            <details className="mt-4">
              <summary className="cursor-pointer text-sm font-medium text-blue-800">Model card</summary>
              <div className="prose-card mt-2 overflow-x-auto text-sm" dangerouslySetInnerHTML={{ __html: marked.parse(card, { async: false }) as string }} />
            </details>
          </section>
        );
      })}
    </div>
  );
}
