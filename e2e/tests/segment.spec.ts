import { expect, type Page, test } from '@playwright/test';
import { answerOf, answeredBy, fixture, truth } from './helpers';

interface Answer {
  classes: string[];
  colours: number[][];
  coverage: Record<string, number>;
  width: number;
  height: number;
}

/** Class per pixel read back from the overlay canvas at opacity 1 (background is transparent). */
async function overlayClasses(page: Page, colours: number[][]): Promise<number[]> {
  await page.getByTestId('opacity').fill('1');
  return page.getByTestId('mask').evaluate((c: HTMLCanvasElement, colours) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const out: number[] = [];
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 0) out.push(0);
      else out.push(colours.findIndex((k, j) => j > 0 && k[0] === d[i] && k[1] === d[i + 1] && k[2] === d[i + 2]));
    }
    return out;
  }, colours);
}

test('mask of a shapes scene: coverage near the truth, the server and the page agree on ≥ 99.5 % of pixels', async ({ page }) => {
  await page.goto('/segment');
  await page.getByTestId('upload').setInputFiles(fixture('shapes.png'));
  await answeredBy(page, 'server');
  const server = await answerOf<Answer>(page);
  expect(server.classes).toEqual(['background', 'circle', 'square', 'triangle']);
  expect([server.width, server.height]).toEqual([160, 160]);
  const want = truth().shapes.coverage;
  for (const c of server.classes) expect(Math.abs(server.coverage[c] - want[c])).toBeLessThan(0.01);
  for (const c of server.classes) await expect(page.getByTestId(`share-${c}`)).toContainText(`${(server.coverage[c] * 100).toFixed(1)} %`);
  const serverMask = await overlayClasses(page, server.colours);
  expect(serverMask).toHaveLength(160 * 160);
  expect(serverMask.every((k) => k >= 0)).toBe(true);

  await page.getByTestId('in-browser').check();
  await answeredBy(page, 'page');
  const browserMask = await overlayClasses(page, server.colours);
  const same = browserMask.filter((k, i) => k === serverMask[i]).length / serverMask.length;
  console.log(`[parity] segment: ${(same * 100).toFixed(3)} % of pixels equal`);
  expect(same).toBeGreaterThanOrEqual(0.995);
});

test('the opacity slider changes the overlay, not the answer', async ({ page }) => {
  await page.goto('/segment');
  await page.getByTestId('sample-shapes-2.png').click();
  await answeredBy(page, 'server');
  const alphaSum = () =>
    page.getByTestId('mask').evaluate((c: HTMLCanvasElement) =>
      c
        .getContext('2d')!
        .getImageData(0, 0, c.width, c.height)
        .data.reduce((s, v, i) => s + (i % 4 === 3 ? v : 0), 0),
    );
  await page.getByTestId('opacity').fill('1');
  const full = await alphaSum();
  await page.getByTestId('opacity').fill('0.2');
  await expect.poll(alphaSum).toBeLessThan(full * 0.3);
  expect(full).toBeGreaterThan(0);
});
