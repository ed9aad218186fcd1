/**
 * Writes what the site serves as static files under public/ (generated, not committed): the tfjs wasm
 * binaries, the shipped models (for in-browser inference), the browser-training digits and the samples.
 *
 *   npx nx run web:prepare
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { loadFashionMnist, loadMnist, makeShapesImage, SHAPE_CLASSES, type ClassificationSet } from '@cv/data';
import { deriveSeed, initBackend, loadPredictor, Rng, writeFileAtomic } from '@cv/engine';
import { type DetectionPredictor, toCocoResults } from '@cv/tasks-detect';
import '@cv/tasks-detect/predict';
import { REPORTS } from '../src/shared/reports';
import { EXPLORER } from '../src/shared/explorer';
import { CATALOGUE, modelDir } from '../src/server/catalogue';
import { SAMPLE_SEED, TRAIN_DIGITS, HELD_OUT_DIGITS, samples } from '../src/shared/samples';

const web = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const root = path.resolve(web, '../..');
const pub = path.join(web, 'public');
const require = createRequire(import.meta.url);

function copyDir(from: string, to: string, filter: (f: string) => boolean): number {
  fs.mkdirSync(to, { recursive: true });
  const files = fs.readdirSync(from).filter(filter);
  for (const f of files) fs.copyFileSync(path.join(from, f), path.join(to, f));
  return files.length;
}

// tfjs wasm binaries, served at /tfjs-wasm/ (setWasmPaths in the page).
const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
copyDir(path.join(wasmDir, 'dist'), path.join(pub, 'tfjs-wasm'), (f) => f.endsWith('.wasm'));

// The shipped models, by catalogue id (the tfjs ones: an ONNX model added by WEB_MODELS_EXTRA answers from the server only).
for (const m of CATALOGUE)
  if (!m.serverOnly && fs.existsSync(path.join(modelDir(m), 'model.json')))
    copyDir(modelDir(m), path.join(pub, 'models', m.id), (f) => f === 'model.json' || f.endsWith('.bin') || f === 'MODEL_CARD.md');

/** N digits as one file: N labels (bytes) then N × 784 pixels. */
function digits(set: ClassificationSet, n: number): Buffer {
  const k = Math.min(n, set.labels.length);
  return Buffer.concat([Buffer.from(Uint8Array.from(set.labels.subarray(0, k))), Buffer.from(set.images.subarray(0, k * 784))]);
}
const mnist = loadMnist();
fs.mkdirSync(path.join(pub, 'data'), { recursive: true });
// Training digits from the train split; held-out digits from the test split (never trained on).
writeFileAtomic(path.join(pub, 'data', 'mnist-train.bin'), digits(mnist.train, TRAIN_DIGITS));
writeFileAtomic(path.join(pub, 'data', 'mnist-test.bin'), digits(mnist.test, HELD_OUT_DIGITS));

// Samples a visitor can pick: test-split digits and clothes, and shapes scenes from a seed no model trained on.
const fashion = loadFashionMnist();
fs.mkdirSync(path.join(pub, 'samples'), { recursive: true });
for (const s of samples) {
  const file = path.join(pub, 'samples', s.file);
  if (s.kind === 'mnist' || s.kind === 'fashion') {
    const set = (s.kind === 'mnist' ? mnist : fashion).test;
    await sharp(Buffer.from(set.images.subarray(s.index * 784, (s.index + 1) * 784)), { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(file);
  } else {
    const img = makeShapesImage(SAMPLE_SEED, s.index);
    await sharp(Buffer.from(img.pixels), { raw: { width: 160, height: 160, channels: 3 } })
      .png()
      .toFile(file);
  }
}
// The committed reports' plots, served at /reports/<id>/.
for (const r of REPORTS) for (const d of r.dirs) copyDir(path.join(root, d.from), path.join(pub, 'reports', r.id, d.to), (f) => /\.(svg|png)$/.test(f));

// The detection explorer's set: shapes scenes of a seed no model saw, made harder from the first image to the last
// (contrast falling to 60 %, Gaussian noise rising to σ 24, so the explorer has errors to show; on clean scenes
// the detector is near perfect), their COCO truth, and the shipped detector's detections at COCO evaluation settings
// (score ≥ 0.001, 100 per image).
const ex = path.join(pub, 'reports', 'explorer');
/** Pulls pixels towards grey (contrast 1 → 0.6) and adds noise (σ 0 → 24) as `t` goes 0 → 1. */
function degrade(pixels: Uint8Array, t: number, rng: Rng): void {
  const contrast = 1 - 0.4 * t;
  const sigma = 24 * t;
  for (let j = 0; j < pixels.length; j++) pixels[j] = Math.max(0, Math.min(255, Math.round(128 + (pixels[j] - 128) * contrast + sigma * rng.normal())));
}
fs.mkdirSync(path.join(ex, 'images'), { recursive: true });
const gt = { images: [] as object[], annotations: [] as object[], categories: SHAPE_CLASSES.map((name, i) => ({ id: i + 1, name })) };
const decoded = [];
for (let i = 0; i < EXPLORER.images; i++) {
  const img = makeShapesImage(EXPLORER.seed, i);
  degrade(img.pixels, i / (EXPLORER.images - 1), new Rng(deriveSeed(EXPLORER.seed, 'explorer-noise', i)));
  const file = `${String(i).padStart(3, '0')}.png`;
  await sharp(Buffer.from(img.pixels), { raw: { width: 160, height: 160, channels: 3 } })
    .png()
    .toFile(path.join(ex, 'images', file));
  gt.images.push({ id: i + 1, file_name: file, width: 160, height: 160 });
  for (const o of img.objects)
    gt.annotations.push({ id: gt.annotations.length + 1, image_id: i + 1, category_id: o.categoryId, bbox: o.bbox, area: o.area, iscrowd: 0 });
  decoded.push({ data: img.pixels, width: 160, height: 160, channels: 3 as const });
}
await initBackend({ log: false });
const detector = (await loadPredictor(path.join(root, 'models/detect/shapes'))) as DetectionPredictor;
const dets = toCocoResults(
  detector.predict(decoded, { conf: 0.001, iou: 0.7, maxDet: 100 }),
  decoded.map((_, i) => i + 1),
);
writeFileAtomic(path.join(ex, 'data.json'), JSON.stringify({ seed: EXPLORER.seed, model: 'shapes-detect', gt, dets }));

console.log(
  `[web] public/: tfjs wasm, ${CATALOGUE.length} models, ${TRAIN_DIGITS} + ${HELD_OUT_DIGITS} digits, ${samples.length} samples, ${REPORTS.length} reports, an explorer set of ${EXPLORER.images} images`,
);
