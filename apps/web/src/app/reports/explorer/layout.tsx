import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Detection explorer' };

export default function Layout({ children }: { children: React.ReactNode }) {
  return children;
}
