import { expect, test } from '@playwright/test';
import config from '../playwright.config';
import { answerOf, answeredBy, fixture, truth } from './helpers';

/**
 * The demo on WebGPU: Chromium with WebGPU on SwiftShader (its software Vulkan device: correctness, not speed).
 * The other tests run with `--disable-gpu` and no WebGPU flags, so their pages take wasm.
 */
const base = (config.use?.launchOptions?.args ?? []).filter((a) => a !== '--disable-gpu');
test.use({ launchOptions: { ...config.use?.launchOptions, args: [...base, '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] } });

interface Answer {
  model: string;
  top: { label: string; probability: number }[];
}

test('"Run in this browser" runs on WebGPU and gives the server\'s answer', async ({ page }) => {
  await page.goto('/classify');
  await page.getByTestId('model').selectOption('mnist');
  await page.getByTestId('upload').setInputFiles(fixture('digit.png'));
  await answeredBy(page, 'server');
  const server = await answerOf<Answer>(page);
  expect(server.top[0].label).toBe(truth().digit.label);

  await page.getByTestId('in-browser').check();
  await answeredBy(page, 'page');
  await expect(page.getByText(/Run in this browser \(tfjs webgpu/)).toBeVisible();
  const browser = await answerOf<Answer>(page);
  expect(browser.top.map((t) => t.label)).toEqual(server.top.map((t) => t.label));
  const worst = Math.max(...browser.top.map((t, i) => Math.abs(t.probability - server.top[i].probability)));
  console.log(`[parity] classify on webgpu: largest probability difference ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-3);
});

test('the Train page trains its CNN on WebGPU and says so', async ({ page }) => {
  // SwiftShader runs the shaders on the CPU: one epoch (125 batches) took 200–240 s on 2 cores, so the limits leave 2×.
  test.setTimeout(600_000);
  await page.goto('/train');
  await page.getByTestId('epochs').selectOption('1');
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toContainText('tfjs webgpu', { timeout: 60_000 });
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-state', 'done', { timeout: 500_000 });
  const heldOut = Number(await page.getByTestId('held-out').getAttribute('data-value'));
  console.log(`[webgpu] page CNN after 1 epoch on WebGPU (SwiftShader): held-out accuracy ${heldOut}`);
  expect(heldOut).toBeGreaterThanOrEqual(0.8);
});
