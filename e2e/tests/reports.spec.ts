import { expect, test } from '@playwright/test';

test('reports: COCO stats, per-class AP and plots of every shipped model', async ({ page }) => {
  await page.goto('/reports');
  const det = page.getByTestId('report-shapes-detect');
  await expect(det.getByRole('table', { name: 'COCO stats' }).locator('tbody tr')).toHaveCount(12);
  await expect(det.getByRole('table', { name: 'AP per class' }).locator('tbody tr')).toHaveCount(3);
  for (const id of ['shapes-segment', 'fashion-mnist', 'mnist', 'mnist-dcgan']) await expect(page.getByTestId(`report-${id}`)).toBeVisible();
  const images = page.locator('main img');
  const n = await images.count();
  expect(n).toBeGreaterThanOrEqual(10);
  for (let i = 0; i < n; i++) {
    await images.nth(i).scrollIntoViewIfNeeded();
    await expect.poll(() => images.nth(i).evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  }
});

test('explorer: the sliders recompute precision, recall and the confusion matrix; a cell shows its errors', async ({ page }) => {
  await page.goto('/reports/explorer');
  const row = page.getByTestId('explorer-row-square');
  await expect(row).toBeVisible();
  const at = async () => ({ p: Number(await row.getAttribute('data-precision')), r: Number(await row.getAttribute('data-recall')) });
  const loose = await at();
  // The error breakdown (coco-ts-api's extendedMetrics, in the page): six kinds, each a count and an AP gain.
  await expect(page.locator('[data-testid^="explorer-error-"]')).toHaveCount(6);
  const localisation = async () => Number(await page.getByTestId('explorer-error-localisation').getAttribute('data-count'));
  const looseLocalisation = await localisation();
  // A strict IoU threshold turns matches into false positives and misses.
  await page.getByTestId('explorer-iou').fill('0.95');
  await expect.poll(async () => (await at()).r).toBeLessThan(loose.r);
  // … which the breakdown reads as localisation errors.
  await expect.poll(localisation).toBeGreaterThan(looseLocalisation);
  // Score 0 keeps every detection: background false positives appear in the last row.
  await page.getByTestId('explorer-conf').fill('0');
  await page.getByTestId('explorer-iou').fill('0.5');
  const cells = page.locator('[data-testid^="cell-3-"]');
  const values = await cells.allTextContents();
  const p = values.findIndex((v, i) => i < 3 && Number(v) > 0);
  expect(p).toBeGreaterThanOrEqual(0);
  await page.getByTestId(`cell-3-${p}`).click();
  await expect(page.getByTestId('error-crop')).toHaveCount(Math.min(60, Number(values[p])));
});

test('models: the server lists its models, backend, kernels and threads', async ({ page }) => {
  await page.goto('/models');
  await expect(page.getByTestId('models-table').locator('tbody tr')).toHaveCount(5);
  await expect(page.getByTestId('server-backend')).toContainText('kernels');
});
