/**
 * The browser-training page's model and loop: a small CNN trained in the page on WebGPU where the browser has
 * it, else tfjs wasm, with the engine's training kernels (tfjs-backend-wasm alone has no Conv2DBackpropFilter, so a
 * CNN cannot train on it). Read-backs are asynchronous (WebGPU's synchronous read goes through a canvas).
 */
import { browserBackend, tf } from './runtime';

export interface Digits {
  x: tf.Tensor4D;
  y: tf.Tensor2D;
  labels: Uint8Array;
  n: number;
}

/** Digits written by scripts/prepare.ts: N label bytes, then N × 784 pixel bytes. */
export async function loadDigits(url: string): Promise<Digits> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} is missing (${res.status}); run npx nx run web:prepare`);
  const buf = new Uint8Array(await res.arrayBuffer());
  const n = buf.length / 785;
  const labels = buf.subarray(0, n);
  const pixels = buf.subarray(n);
  const x = tf.tidy(() => tf.div(tf.tensor4d(Float32Array.from(pixels), [n, 28, 28, 1]), 255) as tf.Tensor4D);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 10) as tf.Tensor2D;
  return { x, y, labels, n };
}

/** conv 3×3 ×8 → pool → conv 3×3 ×16 → pool → dense 10, seeded. */
export function makeCnn(seed = 1): tf.LayersModel {
  const init = (s: number) => tf.initializers.heNormal({ seed: seed * 10 + s });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed * 10 + 3 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

export interface Progress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  /** Held-out accuracy after each finished epoch. */
  heldOut: number[];
  seconds: number;
}

/** Held-out accuracy of a model on digits it never trained on. */
export async function accuracyOn(model: tf.LayersModel, d: Digits): Promise<number> {
  const pred = tf.tidy(() => tf.argMax(model.predict(d.x) as tf.Tensor, 1));
  const p = await pred.data();
  pred.dispose();
  let ok = 0;
  for (let i = 0; i < d.n; i++) ok += p[i] === d.labels[i] ? 1 : 0;
  return ok / d.n;
}

export async function trainInPage(
  epochs: number,
  onProgress: (p: Progress) => void,
  onBackend?: (name: string) => void,
): Promise<{ model: tf.LayersModel; backend: string; progress: Progress }> {
  const backend = await browserBackend();
  onBackend?.(backend);
  const [train, test] = await Promise.all([loadDigits('/data/mnist-train.bin'), loadDigits('/data/mnist-test.bin')]);
  const model = makeCnn();
  const batchSize = 32;
  const batches = Math.ceil(train.n / batchSize);
  const t0 = performance.now();
  const progress: Progress = { epoch: 0, batch: 0, batches, loss: NaN, acc: NaN, heldOut: [], seconds: 0 };
  await model.fit(train.x, train.y, {
    epochs,
    batchSize,
    shuffle: true,
    yieldEvery: 'batch',
    callbacks: {
      onBatchEnd: async (batch, logs) => {
        Object.assign(progress, { batch: batch + 1, loss: logs?.loss ?? NaN, acc: logs?.acc ?? NaN, seconds: (performance.now() - t0) / 1000 });
        onProgress({ ...progress });
      },
      onEpochEnd: async (epoch) => {
        progress.epoch = epoch + 1;
        progress.heldOut = [...progress.heldOut, await accuracyOn(model, test)];
        onProgress({ ...progress });
      },
    },
  });
  tf.dispose([train.x, train.y, test.x, test.y]);
  progress.seconds = (performance.now() - t0) / 1000;
  return { model, backend, progress };
}

/**
 * A drawing (white on black) as MNIST digits are: the strokes' bounding box scaled to fit 20 × 20, placed
 * in 28 × 28 with its centre of mass at the centre. Returns 784 values in 0..1, or null for an empty canvas.
 */
export function drawingToDigit(canvas: HTMLCanvasElement): Float32Array | null {
  const { width: w, height: h } = canvas;
  const src = canvas.getContext('2d', { willReadFrequently: true })!.getImageData(0, 0, w, h).data;
  let [x0, y0, x1, y1] = [w, h, -1, -1];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (src[(y * w + x) * 4] > 20) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const ctx = small.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = 'black';
  ctx.fillRect(0, 0, 28, 28);
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(canvas, x0, y0, bw, bh, (28 - bw * s) / 2, (28 - bh * s) / 2, bw * s, bh * s);
  const d = ctx.getImageData(0, 0, 28, 28).data;
  const v = new Float32Array(784);
  let [m, mx, my] = [0, 0, 0];
  for (let i = 0; i < 784; i++) {
    v[i] = d[i * 4] / 255;
    m += v[i];
    mx += v[i] * (i % 28);
    my += v[i] * Math.floor(i / 28);
  }
  const dx = Math.round(13.5 - mx / m);
  const dy = Math.round(13.5 - my / m);
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const sx = x - dx;
      const sy = y - dy;
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = v[sy * 28 + sx];
    }
  return out;
}

/**
 * The page-trained model as a tfjs model folder in a zip: model.json (with the classifier metadata the suite's
 * Predictors read: task, classNames, inputShape, dataset) and weights.bin. Unzipped, `classify:val --model` scores it.
 */
export async function modelZip(model: tf.LayersModel, heldOut: number | undefined): Promise<Blob> {
  const { zipSync, strToU8 } = await import('fflate');
  model.setUserDefinedMetadata({
    task: 'classify',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    inputShape: [28, 28, 1],
    dataset: 'mnist',
    model: 'page-cnn',
    trainedIn: 'browser',
    ...(heldOut !== undefined ? { heldOutAccuracy: heldOut } : {}),
  });
  let files: Record<string, Uint8Array> = {};
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(artifacts.weightData as ArrayBuffer);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      files = { 'page-cnn/model.json': strToU8(JSON.stringify(json)), 'page-cnn/weights.bin': weights };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const zipped = zipSync(files, { level: 6 });
  return new Blob([zipped], { type: 'application/zip' });
}
