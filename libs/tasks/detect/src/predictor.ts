import * as tf from '@tensorflow/tfjs';
import {
  type DecodedImage,
  type ImagePredictor,
  type InferenceModel,
  type LetterboxTransform,
  type PredictTiming,
  prepareInput,
  readAsync,
  type Reads,
  readSync,
  readsBackSync,
  unletterboxBoxes,
} from '@cv/engine/core';
import { decodeOutputSteps, type Detection, hostCandidates, makeAnchors, nms } from './boxes';
import { decodeUltralytics, type DetectLayout, ultralyticsMetadata } from './ultralytics';
import { PREDICT_DEFAULTS } from './defaults';

/** What a saved detector carries in model.json's `userDefinedMetadata`. */
export interface DetectorMetadata {
  task: 'detect';
  classNames: string[];
  /** COCO category id of each class index. */
  categoryIds: number[];
  /** Model input [H, W]; images are letterboxed to it. */
  imgsz: [number, number];
  strides: number[];
  regMax: number;
  model?: string;
  /** Output layout: the suite's own (default), or an Ultralytics ONNX export's (see ultralytics.ts). */
  layout?: DetectLayout;
  [key: string]: unknown;
}

export interface DetectedObject {
  /** x1, y1, x2, y2 in the original image's pixels. */
  box: [number, number, number, number];
  score: number;
  classIndex: number;
  label: string;
  categoryId: number;
}

export interface DetectOptions {
  /** Score threshold (default `PREDICT_DEFAULTS`; COCO evaluation: `EVAL_DEFAULTS`). */
  conf?: number;
  /** NMS IoU threshold. */
  iou?: number;
  /** Detections kept per image. */
  maxDet?: number;
}

/** Reads and checks a detector's metadata. */
export function detectorMetadata(model: InferenceModel, where = 'model'): DetectorMetadata {
  const meta = model.getUserDefinedMetadata() as Partial<DetectorMetadata> | undefined;
  // An Ultralytics ONNX export: its metadata_props name the task and classes ('names'), not the suite's keys.
  if (meta?.task === 'detect' && !meta.classNames && ('names' in meta || 'stride' in meta || model.runtime === 'onnxruntime'))
    return ultralyticsMetadata(meta as Record<string, unknown>, model, where);
  if (meta?.task !== 'detect' || !meta.classNames || !meta.imgsz || !meta.strides || !meta.regMax) {
    throw new Error(
      `${where} has no detector metadata (task 'detect', classNames, imgsz, strides, regMax); use a model written by detect:train or detect:export`,
    );
  }
  return { categoryIds: meta.classNames.map((_, i) => i + 1), ...meta } as DetectorMetadata;
}

const anchorCache = new Map<string, ReturnType<typeof makeAnchors>>();
/** The anchors of an input size, made once per size (every batch of a run has the same). */
function anchorsFor(imgsz: [number, number], strides: number[]) {
  const key = `${imgsz.join('x')}/${strides.join(',')}`;
  if (!anchorCache.has(key)) anchorCache.set(key, makeAnchors(imgsz, strides));
  return anchorCache.get(key)!;
}

/**
 * Detections of a batch already at the model's input (x in 0..1): decode, class-aware NMS, boxes mapped back
 * through each image's letterbox. The one post-processing of training validation, `predict` and the browser.
 * `clock`, when given, receives the milliseconds of the model (up to its decoded boxes and scores read back) and
 * of NMS with the mapping back. Written as read-back steps: `readSync(detectBatchSteps(…))` on the CPU backends,
 * `await readAsync(…)` on WebGPU (the suite's layout; the Ultralytics layouts still read synchronously).
 */
export function* detectBatchSteps(
  model: InferenceModel,
  meta: DetectorMetadata,
  x: tf.Tensor4D,
  transforms: LetterboxTransform[],
  options: DetectOptions = {},
  clock?: (inferenceMs: number, postprocessMs: number) => void,
): Reads<DetectedObject[][]> {
  const t0 = performance.now();
  const k = meta.classNames.length;
  const thresholds = {
    conf: options.conf ?? PREDICT_DEFAULTS.conf,
    iou: options.iou ?? PREDICT_DEFAULTS.iou,
    maxDet: options.maxDet ?? PREDICT_DEFAULTS.maxDet,
  };
  let perImage: (i: number) => Detection[];
  let t1: number;
  if (meta.layout && meta.layout !== 'suite') {
    if (meta.layout === 'ultralytics-e2e' && !k) throw new Error('this ONNX detector names no classes in its metadata; pass --classes a,b,c');
    // Ultralytics' input is NCHW.
    const raw = tf.tidy(() => model.predict(tf.transpose(x, [0, 3, 1, 2])) as tf.Tensor);
    t1 = performance.now();
    const decoded = decodeUltralytics(raw, meta.layout, k, thresholds);
    raw.dispose();
    perImage = (i) => decoded[i];
  } else {
    const anchors = anchorsFor(meta.imgsz, meta.strides);
    const raw = model.predict(x) as tf.Tensor3D;
    if (readsBackSync()) {
      // On the CPU backends the raw output is read back as it is and only the anchors that can pass `conf` are
      // decoded (a handful per image at predict's threshold): no tensor ops for the DFL decode of every anchor.
      let values: tf.TypedArray;
      try {
        values = yield raw;
      } finally {
        raw.dispose();
      }
      t1 = performance.now();
      perImage = (i) => {
        const c = hostCandidates(values, i, anchors, k, meta.regMax, thresholds.conf);
        return nms(c.boxes, c.scores, k, thresholds);
      };
    } else {
      let decoded: { boxes: Float32Array; scores: Float32Array };
      try {
        decoded = yield* decodeOutputSteps(raw, anchors, k, meta.regMax);
      } finally {
        raw.dispose();
      }
      const { boxes, scores } = decoded;
      t1 = performance.now();
      const a = anchors.count;
      perImage = (i) => nms(boxes.subarray(i * a * 4, (i + 1) * a * 4), scores.subarray(i * a * k, (i + 1) * a * k), k, thresholds);
    }
  }
  const out = transforms.map((t, i): DetectedObject[] => {
    const dets = perImage(i);
    return dets.map((d) => {
      const [x1, y1, x2, y2] = unletterboxBoxes(d.box, t);
      return {
        box: [x1, y1, x2, y2],
        score: d.score,
        classIndex: d.classIndex,
        label: meta.classNames[d.classIndex],
        categoryId: meta.categoryIds[d.classIndex],
      };
    });
  });
  clock?.(t1 - t0, performance.now() - t1);
  return out;
}

/**
 * Runs a trained detector on decoded images of any size and aspect: letterboxed to the model's input
 * (the engine's `prepareInput`), decoded, NMS, boxes in original pixels. Pure tfjs: Node and the browser
 * alike. `timing` holds the last call's per-image milliseconds by stage (postprocess: NMS and the mapping back).
 *
 * @example
 * const detector = new DetectionPredictor(model);
 * const [objects] = detector.predict([{ data, width: 640, height: 480, channels: 4 }]); // [{ box, score, label }]
 */
export class DetectionPredictor implements ImagePredictor<DetectedObject[]> {
  readonly task = 'detect';
  readonly metadata: DetectorMetadata;
  timing: PredictTiming = { preprocess: 0, inference: 0, postprocess: 0 };

  constructor(
    readonly model: InferenceModel,
    readonly options: DetectOptions = {},
  ) {
    this.metadata = detectorMetadata(model);
  }

  /**
   * Names the classes of a model whose metadata has none (an Ultralytics export without `names`: `--classes`);
   * their count must match the model's.
   */
  setClassNames(names: string[]): void {
    const known = this.metadata.classNames.length;
    if (known && !this.metadata.classNames.every((n, i) => n === `class${i}`) && names.join() !== this.metadata.classNames.join())
      throw new Error(`the model names its classes (${this.metadata.classNames.slice(0, 5).join(', ')}...); --classes is for models that do not`);
    if (known && names.length !== known) throw new Error(`--classes gives ${names.length} names but the model has ${known} classes`);
    this.metadata.classNames = names;
    this.metadata.categoryIds = names.map((_, i) => i + 1);
  }

  predict(images: DecodedImage[], options: DetectOptions = this.options): DetectedObject[][] {
    return readSync(this.steps(images, options));
  }

  predictAsync(images: DecodedImage[], options: DetectOptions = this.options): Promise<DetectedObject[][]> {
    return readAsync(this.steps(images, options));
  }

  private *steps(images: DecodedImage[], options: DetectOptions): Reads<DetectedObject[][]> {
    const t0 = performance.now();
    const { x, transforms } = prepareInput(images, { shape: [this.metadata.imgsz[0], this.metadata.imgsz[1], 3], fit: 'letterbox' });
    const t1 = performance.now();
    const n = images.length;
    try {
      return yield* detectBatchSteps(this.model, this.metadata, x, transforms, options, (inference, postprocess) => {
        this.timing = { preprocess: (t1 - t0) / n, inference: inference / n, postprocess: postprocess / n };
      });
    } finally {
      x.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
