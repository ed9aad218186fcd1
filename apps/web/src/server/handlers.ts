import type { ClassificationPredictor } from '@cv/tasks-classify/predict';
import type { DetectionPredictor } from '@cv/tasks-detect/predict';
import type { GanPredictor } from '@cv/tasks-dcgan/predict';
import type { SegmentationPredictor } from '@cv/tasks-segment/predict';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { CATALOGUE } from './catalogue';
import { errorResponse, HttpError } from './errors';
import { loaded, predictorFor } from './models';
import { queued, queueState } from './queue';
import { integerField, numberField, readUpload } from './upload';
import { classifyAnswer, detectAnswer, PREDICT_DEFAULTS, roundStages, segmentSummary, type StageTiming } from '../shared/results';
import type { PredictTiming } from '@cv/engine/core';

/**
 * Runs a route's work in the bounded queue and turns refusals into `{"error"}` with their status. An answer that
 * carries `timing` (milliseconds by stage) has it in the Server-Timing header too, beside the total.
 */
async function answer(work: () => Promise<object & { timing?: StageTiming }>): Promise<Response> {
  try {
    const t0 = performance.now();
    const body = await queued(work);
    const stages = Object.entries(body.timing ?? {}).map(([k, v]) => `${k};dur=${v.toFixed(1)}`);
    return Response.json(body, { headers: { 'server-timing': [...stages, `total;dur=${(performance.now() - t0).toFixed(1)}`].join(', ') } });
  } catch (e) {
    return errorResponse(e);
  }
}

/** Milliseconds of one answer by stage, as the API reports them in `timing`. */
const stagesOf = (decodeMs: number, p: { timing: PredictTiming }, extraPostMs = 0): StageTiming =>
  roundStages({ decode: decodeMs, preprocess: p.timing.preprocess, inference: p.timing.inference, postprocess: p.timing.postprocess + extraPostMs });

/** POST /api/classify: `{"model", "top": [{"label", "probability"}]}` (top 5). */
export function classify(request: Request): Promise<Response> {
  return answer(async () => {
    const { image, fields, decodeMs } = await readUpload(request);
    const { entry, predictor } = await predictorFor<ClassificationPredictor>('classify', fields.get('model') as string | null);
    const k = integerField(fields, 'top', 5, 1, predictor.metadata.classNames.length);
    const [p] = predictor.predict([image], k);
    return { ...classifyAnswer(entry.id, p), timing: stagesOf(decodeMs, predictor) };
  });
}

/**
 * POST /api/detect: `{"model", "detections": [{"label", "classIndex", "score", "box": [x, y, w, h]}]}` in the image's
 * own pixels. Optional fields `conf`, `iou` and `maxDet`, defaults `PREDICT_DEFAULTS` as `detect:predict`.
 */
export function detect(request: Request): Promise<Response> {
  return answer(async () => {
    const { image, width, height, fields, decodeMs } = await readUpload(request);
    const { entry, predictor } = await predictorFor<DetectionPredictor>('detect', fields.get('model') as string | null);
    const options = {
      conf: numberField(fields, 'conf', PREDICT_DEFAULTS.conf, 0, 1),
      iou: numberField(fields, 'iou', PREDICT_DEFAULTS.iou, 0, 1),
      maxDet: integerField(fields, 'maxDet', PREDICT_DEFAULTS.maxDet, 1, 1000),
    };
    const [found] = predictor.predict([image], options);
    // Boxes in the upload's own pixels (a large upload was decoded smaller).
    const [sx, sy] = [width / image.width, height / image.height];
    const objects = found.map((o) => ({ ...o, box: [o.box[0] * sx, o.box[1] * sy, o.box[2] * sx, o.box[3] * sy] as typeof o.box }));
    return { ...detectAnswer(entry.id, predictor.metadata, width, height, objects), timing: stagesOf(decodeMs, predictor) };
  });
}

/**
 * POST /api/segment: `{"model", "classes", "coverage": {name: fraction}, "mask": base64 PNG}` — the mask
 * is one byte per pixel, the class index, at the image's size; `colours` are the overlay's.
 */
export function segment(request: Request): Promise<Response> {
  return answer(async () => {
    const { image, width, height, fields, decodeMs } = await readUpload(request);
    const { entry, predictor } = await predictorFor<SegmentationPredictor>('segment', fields.get('model') as string | null);
    const [r] = predictor.predict([image]);
    const t0 = performance.now();
    let mask = sharp(Buffer.from(r.mask.buffer, r.mask.byteOffset, r.mask.byteLength), { raw: { width: r.width, height: r.height, channels: 1 } });
    // At the upload's own size (a large upload was decoded smaller): nearest, so every pixel keeps a class index.
    if (r.width !== width || r.height !== height) mask = mask.resize(width, height, { fit: 'fill', kernel: 'nearest' });
    const png = await mask
      .toColourspace('b-w') // one byte per pixel: the class index
      .png()
      .toBuffer();
    const summary = segmentSummary(entry.id, predictor.metadata.classNames, predictor.metadata.colours, r);
    // postprocess includes the mask's PNG (at the upload's size).
    return { ...summary, width, height, mask: png.toString('base64'), timing: stagesOf(decodeMs, predictor, performance.now() - t0) };
  });
}

/** GET /api/generate?seed=1&n=16&interpolate=0: DCGAN samples as base64 PNGs. */
export function generate(request: Request): Promise<Response> {
  return answer(async () => {
    const q = new URL(request.url).searchParams;
    const { entry, predictor } = await predictorFor<GanPredictor>('dcgan', q.get('model'));
    const n = integerField(q, 'n', 16, 1, 64);
    const seed = integerField(q, 'seed', 1, 0, 2 ** 31 - 1);
    const interpolate = q.get('interpolate');
    if (interpolate !== null && interpolate !== '0' && interpolate !== '1')
      throw new HttpError(400, `'interpolate' must be 0 or 1 (got '${interpolate.slice(0, 40)}')`);
    const { images, shape } = predictor.sample({ n, seed, interpolate: interpolate === '1' });
    const [h, w, c] = shape;
    const pngs = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const bytes = Uint8Array.from(images.subarray(i * h * w * c, (i + 1) * h * w * c), (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
        return sharp(Buffer.from(bytes), { raw: { width: w, height: h, channels: c as 1 | 3 } })
          .png()
          .toBuffer();
      }),
    );
    return { model: entry.id, seed, shape, images: pngs.map((b) => b.toString('base64')) };
  });
}

/**
 * GET /api/models: `{"models": [{"id", "task", "classes", ...}], "backend", "loadMs"}`; with WEB_DIAGNOSTICS=1 also
 * `"diagnostics": {"queue", "rssBytes", "heapUsedBytes", "wasmHeapBytes", "tensors"}` (live tensors: a leak shows there).
 */
export async function models(): Promise<Response> {
  try {
    const { backend, predictors, sizes, loadMs } = await loaded();
    const list = CATALOGUE.map((entry) => {
      const p = predictors.get(entry.id)!;
      const meta = p.metadata as { classNames?: string[]; inputShape?: number[]; imgsz?: number[]; imageShape?: number[]; model?: string };
      const input = p.model.inputs[0].shape;
      return {
        id: entry.id,
        task: entry.task,
        title: entry.title,
        classes: meta.classNames ?? [],
        architecture: meta.model ?? null,
        input,
        sizeBytes: sizes.get(entry.id)!,
        // An ONNX model (ONNX Runtime, on the server) has no in-browser copy.
        url: entry.serverOnly || p.model.runtime === 'onnxruntime' ? null : `/models/${entry.id}/model.json`,
        runtime: p.model.runtime ?? 'tfjs',
      };
    });
    const body: Record<string, unknown> = { models: list, backend, loadMs };
    // The process's state only where the operator asked for it (WEB_DIAGNOSTICS=1; web:load reads it).
    if (process.env.WEB_DIAGNOSTICS === '1') {
      const { numTensors, numBytes } = tf.memory();
      const { rss, heapUsed } = process.memoryUsage();
      // tfjs-wasm's heap: a WebAssembly memory grows to its high-water mark and never shrinks.
      const wasmHeapBytes = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length ?? null;
      body.diagnostics = { queue: queueState(), rssBytes: rss, heapUsedBytes: heapUsed, wasmHeapBytes, tensors: { count: numTensors, bytes: numBytes } };
    }
    return Response.json(body);
  } catch (e) {
    return errorResponse(e);
  }
}
