import path from 'node:path';
import { expect, test } from '@playwright/test';
import { drawOne, fixture } from './helpers';

// UPDATE_SCREENSHOTS=1 writes docs/screenshots/<page>.png (committed, shown in the README).
test.skip(!process.env.UPDATE_SCREENSHOTS, 'screenshots are written only with UPDATE_SCREENSHOTS=1');

const out = (name: string) => path.join(import.meta.dirname, '..', '..', 'docs', 'screenshots', `${name}.png`);

test('screenshots of every page', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/');
  await page.screenshot({ path: out('home') });
  await page.goto('/classify');
  await page.getByTestId('model').selectOption('mnist');
  await page.getByTestId('upload').setInputFiles(fixture('digit.png'));
  await expect(page.getByTestId('provenance')).toBeVisible();
  await page.screenshot({ path: out('classify') });
  for (const p of ['detect', 'segment']) {
    await page.goto(`/${p}`);
    await page.getByTestId('upload').setInputFiles(fixture('shapes.png'));
    await expect(page.getByTestId('provenance')).toBeVisible();
    await page.screenshot({ path: out(p) });
  }
  await page.goto('/generate');
  await expect(page.getByTestId('grid').locator('img')).toHaveCount(16);
  await page.screenshot({ path: out('generate') });
  await page.goto('/train');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  await drawOne(page);
  await page.getByTestId('classify-drawing').click();
  await page.screenshot({ path: out('train') });
  await page.goto('/reports');
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: out('reports') });
  await page.goto('/reports/explorer');
  await page.getByTestId('explorer-conf').fill('0');
  await page.getByTestId('explorer-iou').fill('0.9');
  await page.getByTestId('cell-3-1').click();
  await page.screenshot({ path: out('explorer'), fullPage: true });
  await page.goto('/models');
  await expect(page.getByTestId('models-table')).toBeVisible();
  await page.screenshot({ path: out('models') });
});
