import * as tf from '@tensorflow/tfjs';
import type { SampleBatch } from '@cv/data';
import { assign, type AssignerOptions } from './assigner';
import { type Anchors, ciou, distancesToBoxes, dflExpectation } from './boxes';

/** Loss gains (Ultralytics' defaults: box 7.5, cls 0.5, dfl 1.5). */
export interface LossGains {
  box: number;
  cls: number;
  dfl: number;
}

export const DEFAULT_GAINS: LossGains = { box: 7.5, cls: 0.5, dfl: 1.5 };

/**
 * Distribution focal loss (Li et al. 2020) of one side: cross-entropy of the bins' softmax with the two
 * bins around the target distance t, weighted by proximity: CE(⌊t⌋)·(⌊t⌋ + 1 − t) + CE(⌊t⌋ + 1)·(t − ⌊t⌋).
 * `logits` [..., R], `target` [...] in bin units (clamped to [0, R − 1.01]).
 */
export function dfl(logits: tf.Tensor, target: tf.Tensor, regMax: number): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.clipByValue(target, 0, regMax - 1 - 0.01);
    const left = tf.floor(t);
    const wl = tf.sub(tf.add(left, 1), t);
    const wr = tf.sub(1, wl);
    const logp = tf.logSoftmax(logits);
    const pick = (bin: tf.Tensor) => tf.sum(tf.mul(logp, tf.oneHot(tf.cast(bin, 'int32'), regMax)), -1);
    return tf.neg(tf.add(tf.mul(pick(left), wl), tf.mul(pick(tf.add(left, 1)), wr)));
  });
}

/** BCE with logits, elementwise (stable: max(x, 0) − x·z + log(1 + e^−|x|)). */
export const bceWithLogits = (x: tf.Tensor, z: tf.Tensor): tf.Tensor =>
  tf.tidy(() => tf.add(tf.sub(tf.relu(x), tf.mul(x, z)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))));

/** The values the assigner reads: class scores [B·A·K] (sigmoid) and decoded boxes [B·A·4] (xyxy, input px). */
export interface PredictedValues {
  scores: Float32Array;
  boxes: Float32Array;
}

/** The tensors whose values `detectionLoss` gives its assigner (to read them back asynchronously before the step). */
export function predictionTensors(raw: tf.Tensor3D, anchors: Anchors, numClasses: number, regMax: number): { scores: tf.Tensor; boxes: tf.Tensor } {
  return tf.tidy(() => {
    const reg = tf.slice(raw, [0, 0, 0], [-1, -1, 4 * regMax]) as tf.Tensor3D;
    const scores = tf.sigmoid(tf.slice(raw, [0, 0, 4 * regMax], [-1, -1, numClasses]));
    return { scores, boxes: distancesToBoxes(dflExpectation(reg, regMax), anchors) };
  });
}

export interface DetectionLoss {
  loss: tf.Scalar;
  box: tf.Scalar;
  cls: tf.Scalar;
  dfl: tf.Scalar;
}

/**
 * The detector's loss for a batch (Ultralytics v8 style): the raw head output [B, A, 4·R + K] is decoded,
 * the task-aligned assigner (run on the predictions' values, outside the gradient) picks positives and
 * soft targets, then BCE on the class logits (crowd regions ignored), CIoU and DFL on the positives, each
 * weighted by the target scores and normalised by their sum.
 */
export function detectionLoss(
  raw: tf.Tensor3D,
  batch: SampleBatch,
  anchors: Anchors,
  numClasses: number,
  regMax: number,
  gains: LossGains = DEFAULT_GAINS,
  assigner: AssignerOptions = {},
  predicted?: PredictedValues,
): DetectionLoss {
  const [b, a] = raw.shape;
  const reg = tf.slice(raw, [0, 0, 0], [-1, -1, 4 * regMax]) as tf.Tensor3D;
  const clsLogits = tf.slice(raw, [0, 0, 4 * regMax], [-1, -1, numClasses]);
  // The assigner's inputs: the predictions' values, read here, or read beforehand (`predictionTensors`).
  const { scores, boxes: boxesJs } = predicted ?? {
    scores: tf.sigmoid(clsLogits).dataSync() as Float32Array,
    boxes: distancesToBoxes(dflExpectation(reg, regMax), anchors).dataSync() as Float32Array,
  };
  const tBoxes = new Float32Array(b * a * 4);
  const tScores = new Float32Array(b * a * numClasses);
  const fg = new Float32Array(b * a);
  const weight = new Float32Array(b * a);
  const maxBoxes = batch.maxBoxes ?? 0;
  for (let i = 0; i < b; i++) {
    const count = batch.boxCounts?.[i] ?? 0;
    const all = batch.boxes?.subarray(i * maxBoxes * 4, i * maxBoxes * 4 + count * 4) ?? new Float32Array(0);
    const classes = batch.boxClasses?.subarray(i * maxBoxes, i * maxBoxes + count) ?? new Int32Array(0);
    // Class −2 marks a crowd region: ignored by the classification loss, never a positive.
    const keep: number[] = [];
    const ignore: number[] = [];
    for (let g = 0; g < count; g++) (classes[g] === -2 ? ignore : keep).push(g);
    const gtBoxes = Float32Array.from(keep.flatMap((g) => Array.from(all.subarray(g * 4, g * 4 + 4))));
    const gtClasses = Int32Array.from(keep.map((g) => classes[g]));
    const ignoreBoxes = Float32Array.from(ignore.flatMap((g) => Array.from(all.subarray(g * 4, g * 4 + 4))));
    const r = assign(
      scores.subarray(i * a * numClasses, (i + 1) * a * numClasses),
      boxesJs.subarray(i * a * 4, (i + 1) * a * 4),
      anchors,
      numClasses,
      gtBoxes,
      gtClasses,
      ignoreBoxes,
      assigner,
    );
    tBoxes.set(r.boxes, i * a * 4);
    tScores.set(r.scores, i * a * numClasses);
    for (let k = 0; k < a; k++) {
      fg[i * a + k] = r.foreground[k];
      weight[i * a + k] = r.weight[k];
    }
  }
  let tss = 0;
  for (const v of tScores) tss += v;
  tss = Math.max(tss, 1);
  const targetScores = tf.tensor3d(tScores, [b, a, numClasses]);
  const clsLoss = tf.div(tf.sum(tf.mul(bceWithLogits(clsLogits, targetScores), tf.tensor3d(weight, [b, a, 1]))), tss) as tf.Scalar;
  // CIoU and DFL count only on the positives (their weight is 0 elsewhere): gather those rows, so the box
  // terms and their gradients cost P rows, not B·A (as Ultralytics indexes with fg_mask).
  const pos: number[] = [];
  for (let i = 0; i < b * a; i++) if (fg[i]) pos.push(i);
  if (!pos.length) {
    const zero = tf.mul(tf.sum(reg), 0) as tf.Scalar;
    const loss = tf.mul(clsLoss, gains.cls) as tf.Scalar;
    return { loss: tf.add(loss, zero) as tf.Scalar, box: tf.scalar(0), cls: clsLoss, dfl: tf.scalar(0) };
  }
  const p = pos.length;
  const posPts = new Float32Array(p * 2);
  const posStrides = new Float32Array(p);
  const posTargets = new Float32Array(p * 4);
  const posWeight = new Float32Array(p);
  pos.forEach((i, j) => {
    const k = i % a;
    posPts[j * 2] = anchors.points[k * 2];
    posPts[j * 2 + 1] = anchors.points[k * 2 + 1];
    posStrides[j] = anchors.strides[k];
    posTargets.set(tBoxes.subarray(i * 4, i * 4 + 4), j * 4);
    let w = 0;
    for (let c = 0; c < numClasses; c++) w += tScores[i * numClasses + c];
    posWeight[j] = w;
  });
  const posReg = tf.gather(tf.reshape(reg, [b * a, 4 * regMax]), tf.tensor1d(Int32Array.from(pos), 'int32')); // [P, 4R]
  const posAnchors: Anchors = { points: posPts, strides: posStrides, count: p };
  const posBoxes = tf.reshape(distancesToBoxes(dflExpectation(tf.reshape(posReg, [1, p, 4 * regMax]) as tf.Tensor3D, regMax), posAnchors), [p, 4]);
  const targetBoxes = tf.tensor2d(posTargets, [p, 4]);
  const boxWeight = tf.tensor1d(posWeight);
  const boxLoss = tf.div(tf.sum(tf.mul(tf.sub(1, ciou(posBoxes, targetBoxes)), boxWeight)), tss) as tf.Scalar;
  // DFL targets: distances of the target box's sides from the anchor point, in stride units.
  const pts = tf.tensor2d(posPts, [p, 2]);
  const s = tf.tensor2d(posStrides, [p, 1]);
  const tltrb = tf.div(tf.concat([tf.sub(pts, tf.slice(targetBoxes, [0, 0], [-1, 2])), tf.sub(tf.slice(targetBoxes, [0, 2], [-1, 2]), pts)], -1), s);
  const dflPer = tf.mean(dfl(tf.reshape(posReg, [p, 4, regMax]), tltrb, regMax), -1); // [P]
  const dflLoss = tf.div(tf.sum(tf.mul(dflPer, boxWeight)), tss) as tf.Scalar;
  const loss = tf.addN([tf.mul(boxLoss, gains.box), tf.mul(clsLoss, gains.cls), tf.mul(dflLoss, gains.dfl)]) as tf.Scalar;
  return { loss, box: boxLoss, cls: clsLoss, dfl: dflLoss };
}
