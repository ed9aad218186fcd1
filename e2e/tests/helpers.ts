import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page } from '@playwright/test';

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.fixtures');
export const fixture = (name: string): string => path.join(FIXTURES, name);

export interface Truth {
  digit: { index: number; label: string };
  shapes: { objects: { label: string; box: number[] }[]; coverage: Record<string, number> };
}
export const truth = (): Truth => JSON.parse(fs.readFileSync(fixture('truth.json'), 'utf8'));

/** The JSON answer the page shows (its `data-json`), once one arrives that differs from `previous`. */
export async function answerOf<T>(page: Page, previous = ''): Promise<T> {
  const answer = page.getByTestId('answer');
  await expect(answer).not.toHaveAttribute('data-json', previous === '' ? '' : previous);
  await expect(answer).not.toHaveAttribute('aria-busy', 'true');
  return JSON.parse((await answer.getAttribute('data-json'))!) as T;
}

/** Waits until the page says which side answered ('server' or 'page'). */
export async function answeredBy(page: Page, where: 'server' | 'page'): Promise<void> {
  await expect(page.getByTestId('provenance')).toContainText(`answered by the ${where}`, { timeout: 90_000 });
  await expect(page.getByTestId('answer')).not.toHaveAttribute('aria-busy', 'true');
}

export function iou(a: number[], b: number[]): number {
  const ix = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const iy = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  const inter = ix * iy;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

/** A vertical stroke down the middle of the drawing pad (a 1). */
export async function drawOne(page: Page): Promise<void> {
  const pad = (await page.getByTestId('pad').boundingBox())!;
  await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.15);
  await page.mouse.down();
  for (let y = 0.15; y <= 0.85; y += 0.05) await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * y);
  await page.mouse.up();
}
