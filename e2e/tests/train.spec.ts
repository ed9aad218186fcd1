import { expect, test } from '@playwright/test';

test('a CNN trains in the page to ≥ 90 % on held-out digits, then reads a drawn 1', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/train');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(page.getByTestId('train-status')).toContainText('tfjs wasm');
  const heldOut = Number(await page.getByTestId('held-out').getAttribute('data-value'));
  expect(heldOut).toBeGreaterThanOrEqual(0.9);
  await expect(page.getByTestId('curve')).toBeVisible();

  // A vertical stroke down the middle of the pad.
  const pad = (await page.getByTestId('pad').boundingBox())!;
  await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.15);
  await page.mouse.down();
  for (let y = 0.15; y <= 0.85; y += 0.05) await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * y);
  await page.mouse.up();
  await page.getByTestId('classify-drawing').click();
  await expect(page.getByTestId('drawing-answer')).toHaveAttribute('data-label', '1');
});
