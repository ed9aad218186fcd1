import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Train in the browser' };

export default function Layout({ children }: { children: React.ReactNode }) {
  return children;
}
