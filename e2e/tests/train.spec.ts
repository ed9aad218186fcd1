import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { unzipSync } from 'fflate';
import { drawOne, fixture } from './helpers';

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

  // The page-trained model downloads as a tfjs folder (zip) that classify:val scores on the MNIST test set.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cv-e2e-model-'));
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-model').click()]);
  const zip = path.join(dir, file.suggestedFilename());
  await file.saveAs(zip);
  for (const [name, bytes] of Object.entries(unzipSync(fs.readFileSync(zip)))) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), bytes);
  }
  const root = path.resolve(fixture('.'), '..', '..');
  execFileSync(
    path.join(root, 'node_modules', '.bin', 'tsx'),
    ['apps/classify/src/val.ts', '--model', path.join(dir, 'page-cnn'), '--json', path.join(dir, 'val.json')],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'val.json'), 'utf8'));
  const accuracy = report.accuracy ?? report.metrics?.accuracy;
  console.log(`[download] page-trained model scored by classify:val: accuracy ${accuracy} (held out in the page ${heldOut})`);
  expect(accuracy).toBeGreaterThan(0.85);
});
