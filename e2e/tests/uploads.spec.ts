import fs from 'node:fs';
import { expect, test } from '@playwright/test';
import { fixture } from './helpers';

const BAD = [
  { file: 'text.png', status: 415, says: 'not a PNG, JPEG or WebP image' },
  { file: 'empty.png', status: 400, says: 'empty (0 bytes)' },
  { file: 'big-20mb.png', status: 413, says: 'up to 10 MB' },
  { file: 'huge-10000.png', status: 413, says: '10000×10000 pixels' },
];

for (const task of ['classify', 'detect', 'segment'] as const) {
  test(`POST /api/${task} refuses bad uploads with a 4xx line and keeps serving`, async ({ request }) => {
    for (const bad of BAD) {
      const res = await request.post(`/api/${task}`, {
        multipart: { image: { name: bad.file, mimeType: 'image/png', buffer: fs.readFileSync(fixture(bad.file)) } },
      });
      expect(res.status(), bad.file).toBe(bad.status);
      const body = (await res.json()) as { error: string };
      expect(body.error).toContain(bad.says);
      expect(body.error).not.toContain('\n');
    }
    const noField = await request.post(`/api/${task}`, { multipart: { picture: 'x' } });
    expect(noField.status()).toBe(400);
    const wrongModel = await request.post(`/api/${task}`, {
      multipart: { image: { name: 'a.png', mimeType: 'image/png', buffer: fs.readFileSync(fixture('shapes.png')) }, model: '../../etc/passwd' },
    });
    expect(wrongModel.status()).toBe(404);
    const ok = await request.post(`/api/${task}`, {
      multipart: { image: { name: 'shapes.png', mimeType: 'image/png', buffer: fs.readFileSync(fixture('shapes.png')) } },
    });
    expect(ok.status()).toBe(200);
  });
}

test('the page shows each refusal as one line and still answers afterwards', async ({ page }) => {
  await page.goto('/detect');
  for (const bad of BAD) {
    await page.getByTestId('upload').setInputFiles(fixture(bad.file));
    await expect(page.getByTestId('error')).toContainText(bad.says);
  }
  await page.getByTestId('upload').setInputFiles(fixture('shapes.png'));
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('box').first()).toBeVisible();
});

test('GET /api/models lists the shipped models by id', async ({ request }) => {
  const body = (await (await request.get('/api/models')).json()) as { models: { id: string; task: string; classes: string[] }[]; backend: { name: string } };
  expect(body.models.map((m) => m.id)).toEqual(['fashion-mnist', 'mnist', 'shapes-detect', 'shapes-segment', 'mnist-dcgan']);
  expect(body.models.find((m) => m.id === 'shapes-detect')!.classes).toEqual(['circle', 'square', 'triangle']);
  expect(['wasm', 'tensorflow', 'cpu']).toContain(body.backend.name);
});
