import { expect, test } from '@playwright/test';
import { drawOne } from './helpers';

test('a CNN trains in the page to ≥ 90 % on held-out digits, then reads a drawn 1', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/train');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await expect(page.getByTestId('train-status')).toContainText('tfjs wasm');
  const heldOut = Number(await page.getByTestId('held-out').getAttribute('data-value'));
  expect(heldOut).toBeGreaterThanOrEqual(0.9);
  await expect(page.getByTestId('curve')).toBeVisible();

  await drawOne(page);
  await page.getByTestId('classify-drawing').click();
  await expect(page.getByTestId('drawing-answer')).toHaveAttribute('data-label', '1');
});
