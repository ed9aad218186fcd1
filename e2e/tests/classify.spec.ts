import { expect, test } from '@playwright/test';
import { answerOf, answeredBy, fixture, truth } from './helpers';

interface Answer {
  model: string;
  top: { label: string; probability: number }[];
}

test('a known MNIST test digit gets its label, the same on the server and in the page', async ({ page }) => {
  await page.goto('/classify');
  await page.getByTestId('model').selectOption('mnist');
  await page.getByTestId('upload').setInputFiles(fixture('digit.png'));
  await answeredBy(page, 'server');
  const server = await answerOf<Answer>(page);
  expect(server.model).toBe('mnist');
  expect(server.top).toHaveLength(5);
  expect(server.top[0].label).toBe(truth().digit.label);
  await expect(page.getByTestId('top-label').first()).toHaveText(truth().digit.label);

  await page.getByTestId('in-browser').check();
  await answeredBy(page, 'page');
  const browser = await answerOf<Answer>(page);
  expect(browser.top.map((t) => t.label)).toEqual(server.top.map((t) => t.label));
  const worst = Math.max(...browser.top.map((t, i) => Math.abs(t.probability - server.top[i].probability)));
  console.log(`[parity] classify: largest probability difference ${worst.toExponential(2)}`);
  expect(worst).toBeLessThanOrEqual(1e-3);
});

test('a Fashion-MNIST sample is classified into one of its classes', async ({ page }) => {
  await page.goto('/classify');
  await page.getByTestId('sample-fashion-0.png').click();
  await answeredBy(page, 'server');
  const a = await answerOf<Answer>(page);
  expect(a.model).toBe('fashion-mnist');
  const sum = a.top.reduce((s, t) => s + t.probability, 0);
  expect(sum).toBeGreaterThan(0.5);
  expect(sum).toBeLessThanOrEqual(1 + 1e-5);
});
