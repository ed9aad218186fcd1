import type { Metadata } from 'next';
import Link from 'next/link';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'cv-suite demo', template: '%s · cv-suite demo' },
  description: 'Classification, detection, segmentation and generation with the suite’s shipped models; a CNN trained in the page.',
};

const PAGES = [
  ['/classify', 'Classify'],
  ['/detect', 'Detect'],
  ['/segment', 'Segment'],
  ['/generate', 'Generate'],
  ['/train', 'Train in the browser'],
  ['/reports', 'Reports'],
  ['/models', 'Models'],
] as const;

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">
        <header className="border-b border-slate-200 bg-white">
          <nav aria-label="Main" className="mx-auto flex max-w-6xl flex-wrap items-center gap-x-5 gap-y-2 px-4 py-3">
            <Link href="/" className="inline-flex min-h-6 items-center font-semibold text-slate-900">
              cv-suite
            </Link>
            {PAGES.map(([href, label]) => (
              <Link key={href} href={href} className="inline-flex min-h-6 items-center text-sm text-slate-700 hover:text-blue-700 hover:underline">
                {label}
              </Link>
            ))}
          </nav>
        </header>
        <main className="mx-auto max-w-6xl px-4 py-6">{children}</main>
      </body>
    </html>
  );
}
