// Data: the built-in MNIST split, a DataLoader with seeded shuffling and augmentation, and an image folder of your own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataLoader, loadImageFolder, loadMnist, writePng } from '@cv/data';
import { initBackend } from '@cv/engine';

await initBackend({ log: false });
const { train, test, splitDescription } = loadMnist();
console.log(`MNIST: ${train.labels.length} train / ${test.labels.length} test images of ${train.shape.join('×')} (${splitDescription})`);

const loader = new DataLoader(train, { batchSize: 32, shuffle: true, augment: { rotate: 10, translate: 0.1 } });
const first = await loader.batches(7)[Symbol.asyncIterator]().next();
const batch = first.value!;
console.log(`${loader.length} batches per epoch; a batch: x ${batch.shape.join('×')} in 0..1, labels ${Array.from(batch.y.slice(0, 8)).join(' ')} …`);
const again = (await loader.batches(7)[Symbol.asyncIterator]().next()).value!;
console.log(
  'the same seed gives the same batch:',
  Array.from(again.y).join() === Array.from(batch.y).join() && again.x.every((v: number, i: number) => v === batch.x[i]),
);

// Your own images: one sub-folder per class (any size, PNG / JPEG / WebP), resized as they load.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'guide-folder-'));
for (const [cls, value] of [
  ['dark', 40],
  ['light', 220],
] as const) {
  fs.mkdirSync(path.join(root, cls));
  for (let i = 0; i < 5; i++) await writePng(path.join(root, cls, `${i}.png`), new Uint8Array(20 * 30).fill(value + i), [20, 30, 1]);
}
const folder = await loadImageFolder(root, { size: 16, channels: 1 });
console.log(
  `folder: classes ${folder.train.classNames.join(', ')}; ${folder.train.labels.length} train / ${folder.test.labels.length} test at ${folder.train.shape.join('×')} (${folder.splitDescription})`,
);
