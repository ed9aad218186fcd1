import { expect, test } from '@playwright/test';
import { answerOf, answeredBy, fixture, iou, truth } from './helpers';

interface Answer {
  detections: { label: string; score: number; box: number[] }[];
}

/** The boxes the page shows now (after its own slider filtering). */
async function shownBoxes(page: import('@playwright/test').Page) {
  return page.getByTestId('box').evaluateAll((els) => els.map((e) => ({ label: e.getAttribute('data-label')!, score: Number(e.getAttribute('data-score')) })));
}

test('boxes on a shapes scene: every object found with its class, sliders re-filter in the page, server and page agree', async ({ page }) => {
  const objects = truth().shapes.objects;
  let requests = 0;
  page.on('request', (r) => r.url().endsWith('/api/detect') && requests++);
  await page.goto('/detect');
  await page.getByTestId('upload').setInputFiles(fixture('shapes.png'));
  await answeredBy(page, 'server');
  const server = await answerOf<Answer>(page);

  // At the default confidence (0.25) and IoU (0.7): one box per object, right class, IoU ≥ 0.7 with the truth.
  await expect(page.getByTestId('box-count')).toHaveText(String(objects.length));
  const kept = server.detections.filter((d) => d.score >= 0.25);
  for (const o of objects) expect(kept.some((d) => d.label === o.label && iou(d.box, o.box) >= 0.7)).toBe(true);
  for (const label of new Set(objects.map((o) => o.label))) {
    await expect(page.getByTestId(`count-${label}`)).toContainText(String(objects.filter((o) => o.label === label).length));
  }

  // The sliders change what is shown without a new request.
  const before = requests;
  await page.getByTestId('conf').fill('0.05');
  const low = await shownBoxes(page);
  await page.getByTestId('conf').fill('0.95');
  const high = await shownBoxes(page);
  expect(low.length).toBeGreaterThan(high.length);
  expect(high.every((b) => b.score >= 0.95)).toBe(true);
  await page.getByTestId('conf').fill('0.05');
  await page.getByTestId('iou').fill('0.05');
  const strict = await shownBoxes(page);
  expect(strict.length).toBeLessThanOrEqual(low.length);
  expect(requests).toBe(before);

  // In the page: the same candidates (classes equal, scores within 1e-3, boxes within 1 px).
  await page.getByTestId('in-browser').check();
  await answeredBy(page, 'page');
  const browser = await answerOf<Answer>(page);
  expect(browser.detections.length).toBe(server.detections.length);
  let worstBox = 0;
  let worstScore = 0;
  for (const s of server.detections) {
    // Order can differ where two scores tie to float noise: pair each server box with the page's nearest.
    const d = browser.detections.filter((b) => b.label === s.label).sort((a, b) => iou(b.box, s.box) - iou(a.box, s.box))[0];
    expect(d).toBeDefined();
    expect(Math.abs(d.score - s.score)).toBeLessThanOrEqual(1e-3);
    d.box.forEach((v, j) => expect(Math.abs(v - s.box[j])).toBeLessThanOrEqual(1));
    worstScore = Math.max(worstScore, Math.abs(d.score - s.score));
    worstBox = Math.max(worstBox, ...d.box.map((v, j) => Math.abs(v - s.box[j])));
  }
  console.log(
    `[parity] detect: ${server.detections.length} boxes, largest box difference ${worstBox.toExponential(2)} px, score ${worstScore.toExponential(2)}`,
  );
});
