/**
 * What users do beyond one upload: drag-and-drop, paste, the webcam, several files at once, per-stage timing,
 * display switches, and downloads that the suite's own commands read back.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import sharp from 'sharp';
import { answerOf, answeredBy, fixture, truth } from './helpers';

const ROOT = path.resolve(fixture('.'), '..', '..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cv-e2e-'));

/** Runs one of the suite's commands (as `npx nx run` would, without nx's start-up) and returns its stdout. */
function suite(script: string, args: string[]): string {
  return execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [script, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Sends files to the page as a drop on its body, or as a paste on the document. */
async function give(page: Page, how: 'drop' | 'paste', files: string[]): Promise<void> {
  const payload = files.map((f) => ({ name: path.basename(f), b64: fs.readFileSync(f).toString('base64') }));
  await page.evaluate(
    ({ how, payload }) => {
      const dt = new DataTransfer();
      for (const f of payload) dt.items.add(new File([Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))], f.name, { type: 'image/png' }));
      if (how === 'drop') {
        document.body.dispatchEvent(new DragEvent('dragenter', { dataTransfer: dt, bubbles: true }));
        document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
        document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      } else {
        document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }
    },
    { how, payload },
  );
}

async function download(page: Page, testId: string, dir: string): Promise<string> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  const to = path.join(dir, file.suggestedFilename());
  await file.saveAs(to);
  return to;
}

interface DetectAnswer {
  classes: string[];
  detections: { label: string; score: number; box: number[] }[];
  timing?: Record<string, number>;
}

test('an image dropped anywhere on the detect page is answered, with its stages timed', async ({ page }) => {
  await page.goto('/detect');
  await page.waitForLoadState('networkidle');
  await give(page, 'drop', [fixture('shapes.png')]);
  await answeredBy(page, 'server');
  const a = await answerOf<DetectAnswer>(page);
  expect(a.detections.filter((d) => d.score >= 0.25).length).toBe(truth().shapes.objects.length);
  for (const stage of ['decode', 'preprocess', 'inference', 'postprocess']) {
    expect(a.timing![stage]).toBeGreaterThanOrEqual(0);
    await expect(page.locator(`[data-stage=${stage}]`)).toBeVisible();
  }
  expect(a.timing!.inference).toBeGreaterThan(0);
});

test('an image pasted on the segment page is answered, in the page too', async ({ page }) => {
  await page.goto('/segment');
  await page.waitForLoadState('networkidle');
  await give(page, 'paste', [fixture('shapes.png')]);
  await answeredBy(page, 'server');
  const a = await answerOf<{ coverage: Record<string, number> }>(page);
  expect(a.coverage.background).toBeGreaterThan(0.3);
  await page.getByTestId('in-browser').check();
  await answeredBy(page, 'page');
  await expect(page.locator('[data-stage=inference]')).toBeVisible();
  // The three views: mask only and side by side show the legend's colours.
  await page.getByTestId('view-mask').check();
  await expect(page.getByTestId('mask')).toBeVisible();
  await page.getByTestId('view-side').check();
  await expect(page.getByTestId('mask-side')).toBeVisible();
});

test('a dropped file that is not an image is refused with one line', async ({ page }) => {
  await page.goto('/detect');
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['hello'], 'notes.txt', { type: 'text/plain' }));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByTestId('drop-refused')).toContainText('notes.txt: not a PNG, JPEG or WebP image');
});

for (const task of ['detect', 'segment'] as const) {
  test(`the webcam answers live on the ${task} page (fake camera), with an FPS readout`, async ({ page, context }) => {
    await context.grantPermissions(['camera']);
    await page.goto(`/${task}`);
    await page.getByTestId('webcam-toggle').click();
    await expect(page.getByTestId('provenance')).toContainText('answered by the page (webcam', { timeout: 90_000 });
    await expect(page.getByTestId('fps')).not.toHaveAttribute('data-value', '', { timeout: 30_000 });
    const fps = Number(await page.getByTestId('fps').getAttribute('data-value'));
    console.log(`[webcam] ${task}: ${fps.toFixed(1)} FPS in the page`);
    expect(fps).toBeGreaterThan(0);
    const a = JSON.parse((await page.getByTestId('answer').getAttribute('data-json'))!);
    expect(a.width).toBeGreaterThan(0);
    expect(task === 'detect' ? Array.isArray(a.detections) : typeof a.coverage).toBe(task === 'detect' ? true : 'object');
    await page.getByTestId('webcam-toggle').click();
    await expect(page.getByTestId('fps')).toHaveCount(0);
  });
}

test('several files at once make a gallery, each answered', async ({ page }) => {
  await page.goto('/classify');
  await expect(page.getByTestId('model')).toHaveValue('mnist');
  await page.getByTestId('upload').setInputFiles([fixture('digit.png'), fixture('shapes.png'), fixture('digit.png')]);
  await expect(page.getByTestId('gallery-item')).toHaveCount(3);
  await expect(page.locator('[data-testid=gallery-item][data-done=true]')).toHaveCount(3, { timeout: 60_000 });
  await expect(page.getByTestId('gallery-summary').first()).toContainText(truth().digit.label);
  await page.getByTestId('gallery-item').nth(1).click();
  await expect(page.getByRole('img', { name: 'the image to classify: shapes.png' })).toBeVisible();
});

test('detect: hide a class, labels off, the coordinates table, and downloads that coco-ts-api:eval reads', async ({ page }) => {
  const dir = tmp();
  await page.goto('/detect');
  await page.getByTestId('upload').setInputFiles(fixture('shapes.png'));
  await answeredBy(page, 'server');
  const a = await answerOf<DetectAnswer>(page);
  const objects = truth().shapes.objects;
  await expect(page.getByTestId('box-row')).toHaveCount(objects.length);
  const label = objects[0].label;
  await page.getByTestId(`show-${label}`).uncheck();
  await expect(page.locator(`[data-testid=box][data-label=${label}]`)).toHaveCount(0);
  await page.getByTestId(`show-${label}`).check();
  await page.getByTestId('labels').uncheck();
  await expect(page.getByTestId('box-label')).toHaveCount(0);
  await page.getByTestId('labels').check();

  // COCO results of the shown boxes, scored against the scene's truth by the suite's own evaluator.
  const dt = await download(page, 'download-coco', dir);
  const gt = {
    images: [{ id: 1, width: 160, height: 160, file_name: 'shapes.png' }],
    categories: a.classes.map((name, i) => ({ id: i + 1, name })),
    annotations: objects.map((o, i) => ({
      id: i + 1,
      image_id: 1,
      category_id: a.classes.indexOf(o.label) + 1,
      bbox: o.box,
      area: o.box[2] * o.box[3],
      iscrowd: 0,
    })),
  };
  const meta = await sharp(fixture('shapes.png')).metadata();
  gt.images[0].width = meta.width!;
  gt.images[0].height = meta.height!;
  fs.writeFileSync(path.join(dir, 'gt.json'), JSON.stringify(gt));
  suite('libs/coco-ts-api/src/cli.ts', ['--gt', path.join(dir, 'gt.json'), '--dt', dt, '--iou', 'bbox', '--json', path.join(dir, 'eval.json')]);
  const stats = JSON.parse(fs.readFileSync(path.join(dir, 'eval.json'), 'utf8')).stats as number[];
  console.log(`[download] detect COCO results: mAP50-95 ${stats[0].toFixed(3)}, mAP50 ${stats[1].toFixed(3)}`);
  expect(stats[1]).toBeGreaterThan(0.9);

  // The annotated PNG at the image's own size, and the answer JSON.
  const png = await download(page, 'download-png', dir);
  const m = await sharp(png).metadata();
  expect([m.format, m.width, m.height]).toEqual(['png', meta.width, meta.height]);
  const json = JSON.parse(fs.readFileSync(await download(page, 'download-json', dir), 'utf8')) as DetectAnswer;
  expect(json.detections.length).toBe(objects.length);
});

test('segment: the class-index mask PNG is read back by segment:val as a truth mask', async ({ page }) => {
  const dir = tmp();
  await page.goto('/segment');
  await page.getByTestId('upload').setInputFiles(fixture('shapes.png'));
  await answeredBy(page, 'server');
  const mask = await download(page, 'download-mask', dir);
  fs.mkdirSync(path.join(dir, 'images'));
  fs.mkdirSync(path.join(dir, 'masks'));
  fs.copyFileSync(fixture('shapes.png'), path.join(dir, 'images', 'scene.png'));
  fs.copyFileSync(mask, path.join(dir, 'masks', 'scene.png'));
  suite('apps/segment/src/val.ts', [
    '--model',
    'models/segment/shapes',
    '--images',
    path.join(dir, 'images'),
    '--masks',
    path.join(dir, 'masks'),
    '--mask-ap',
    'false',
    '--json',
    path.join(dir, 'val.json'),
  ]);
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'val.json'), 'utf8'));
  const miou = report.miou ?? report.metrics?.miou;
  console.log(`[download] segment mask read back: mIoU of the model against its own downloaded mask ${miou}`);
  // The same model on the same pixels: the downloaded mask is the model's answer, so it agrees with itself.
  expect(miou).toBeGreaterThan(0.98);
  const overlay = await sharp(await download(page, 'download-overlay', dir)).metadata();
  expect(overlay.format).toBe('png');
});

test('generate: a negative seed is refused in words, not clamped; the grid downloads as one PNG', async ({ page }) => {
  const dir = tmp();
  await page.goto('/generate');
  await expect(page.getByTestId('grid').locator('img')).toHaveCount(16);
  await page.getByTestId('seed').fill('-5');
  await expect(page.getByTestId('seed-error')).toContainText('the seed must be a whole number from 0');
  await expect(page.getByTestId('seed')).toHaveValue('-5');
  await page.getByTestId('seed').fill('7');
  await expect(page.getByTestId('seed-error')).toHaveCount(0);
  await expect(page.getByRole('heading', { name: '16 samples (seed 7)' })).toBeVisible();
  const grid = await sharp(await download(page, 'download-grid', dir)).metadata();
  expect([grid.format, grid.width, grid.height]).toEqual(['png', 112, 112]);
});

test('the new controls have no moderate, serious or critical accessibility violations', async ({ page, context }) => {
  await context.grantPermissions(['camera']);
  for (const route of ['/detect', '/segment']) {
    await page.goto(route);
    await page.getByTestId('sample-shapes-0.png').click();
    await expect(page.getByTestId('provenance')).toBeVisible();
    const result = await new AxeBuilder({ page }).include('[data-a11y-new]').include('[data-testid=gallery]').analyze();
    const bad = result.violations.filter((v) => v.impact !== 'minor');
    expect(bad.map((v) => `${route} ${v.id}: ${v.help} (${v.nodes[0]?.target.join(' ')})`)).toEqual([]);
  }
  await page.goto('/generate');
  await expect(page.getByTestId('download-grid')).toBeVisible();
  const gen = await new AxeBuilder({ page }).include('[data-a11y-new]').analyze();
  expect(gen.violations.filter((v) => v.impact !== 'minor').map((v) => v.id)).toEqual([]);
});
