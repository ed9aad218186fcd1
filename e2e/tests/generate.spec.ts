import { expect, test } from '@playwright/test';

test('a grid of 16 digits and an interpolation strip; a new seed draws other digits', async ({ page }) => {
  await page.goto('/generate');
  const grid = page.getByTestId('grid').locator('img');
  await expect(grid).toHaveCount(16);
  await expect(page.getByTestId('strip').locator('img')).toHaveCount(10);
  const first = await grid.first().getAttribute('src');
  // The same seed gives the same images.
  const again = await page.request.get('/api/generate?n=16&seed=1');
  expect(((await again.json()) as { images: string[] }).images[0]).toBe(first!.replace('data:image/png;base64,', ''));
  await page.getByTestId('seed').fill('5');
  await expect.poll(() => grid.first().getAttribute('src')).not.toBe(first);
  await expect(grid).toHaveCount(16);
});
