import * as tf from '@tensorflow/tfjs';
import { readsBackSync } from '@cv/engine/core';

/** Mask value no loss or metric counts. */
export const IGNORE = 255;

export type LossName = 'ce' | 'dice' | 'focal' | 'jaccard';
export const LOSS_NAMES: LossName[] = ['ce', 'dice', 'focal', 'jaccard'];

/** A weighted sum of losses, e.g. `ce+dice` or `0.5*ce+dice` (smp's losses, added as `L1 + L2` in PyTorch). */
export interface LossSpec {
  terms: { name: LossName; weight: number }[];
  /** Per-class weights of cross-entropy (and focal), as PyTorch's `weight`. */
  classWeights?: number[];
  /** Focal loss γ (2). */
  gamma?: number;
}

/** Parses `ce+dice`, `0.5*ce+2*dice`, `focal`... naming the valid terms on a bad one. */
export function parseLoss(text: string): LossSpec['terms'] {
  return text.split('+').map((part) => {
    const m = /^\s*(?:([0-9.]+)\s*\*\s*)?([a-z]+)\s*$/.exec(part);
    if (!m || !LOSS_NAMES.includes(m[2] as LossName) || (m[1] !== undefined && !(Number(m[1]) > 0)))
      throw new Error(
        `loss '${text}': '${part.trim()}' is not a term; use a sum of ${LOSS_NAMES.join(', ')} with optional weights, e.g. ce+dice or 0.5*ce+dice`,
      );
    return { name: m[2] as LossName, weight: m[1] === undefined ? 1 : Number(m[1]) };
  });
}

/**
 * Segmentation losses of logits [B, H, W, C] against class indices [B, H, W] (int32; `IGNORE` pixels left
 * out of every term):
 * - `ce`: softmax cross-entropy, the mean over counted pixels — with class weights, Σ w_t·nll / Σ w_t (PyTorch).
 * - `dice`: smp's multiclass soft Dice, over the whole batch: per class 1 − 2·Σp·y / Σ(p + y), classes
 *   absent from the batch's truth contribute 0, mean over all classes.
 * - `jaccard`: the same with Σp·y / (Σ(p + y) − Σp·y).
 * - `focal`: softmax focal loss (1 − p_t)^γ · nll (γ = 2), weighted and averaged as `ce`.
 * Returns the weighted sum and each term.
 */
export function segmentationLoss(logits: tf.Tensor4D, target: tf.Tensor3D, spec: LossSpec): { loss: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const c = logits.shape[3];
  if (
    readsBackSync() && // the fused op sums in JavaScript; a GPU backend keeps the tensor form
    !spec.classWeights &&
    spec.terms.every((t) => t.name === 'ce' || t.name === 'dice') &&
    new Set(spec.terms.map((t) => t.name)).size === spec.terms.length
  ) {
    return ceDiceLoss(logits, target, spec.terms);
  }
  return tf.tidy(() => {
    const valid = tf.cast(tf.notEqual(target, IGNORE), 'float32') as tf.Tensor3D;
    const safe = tf.where(tf.notEqual(target, IGNORE), target, tf.zerosLike(target)) as tf.Tensor3D;
    const onehot = tf.mul(tf.oneHot(tf.cast(safe, 'int32'), c), tf.expandDims(valid, -1)) as tf.Tensor4D;
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(onehot, logp), -1)) as tf.Tensor3D;
    const pixelWeights = spec.classWeights ? tf.mul(tf.gather(tf.tensor1d(checkWeights(spec.classWeights, c)), tf.cast(safe, 'int32')), valid) : valid;
    const denom = tf.maximum(tf.sum(pixelWeights), 1e-7);
    const parts: Record<string, tf.Scalar> = {};
    let probs: tf.Tensor4D | undefined;
    const overlap = () => {
      probs ??= tf.mul(tf.exp(logp), tf.expandDims(valid, -1)) as tf.Tensor4D;
      const inter = tf.sum(tf.mul(probs, onehot), [0, 1, 2]);
      const card = tf.sum(tf.add(probs, onehot), [0, 1, 2]);
      const present = tf.cast(tf.greater(tf.sum(onehot, [0, 1, 2]), 0), 'float32');
      return { inter, card, present };
    };
    let total: tf.Scalar = tf.scalar(0);
    for (const { name, weight } of spec.terms) {
      let l: tf.Scalar;
      if (name === 'ce') l = tf.div(tf.sum(tf.mul(nll, pixelWeights)), denom);
      else if (name === 'focal') {
        const pt = tf.exp(tf.neg(nll));
        l = tf.div(tf.sum(tf.mul(tf.mul(tf.pow(tf.sub(1, pt), spec.gamma ?? 2), nll), pixelWeights)), denom);
      } else {
        const { inter, card, present } = overlap();
        const score = name === 'dice' ? tf.div(tf.mul(2, inter), tf.maximum(card, 1e-7)) : tf.div(inter, tf.maximum(tf.sub(card, inter), 1e-7));
        l = tf.mean(tf.mul(tf.sub(1, score), present));
      }
      parts[name] = tf.keep(l);
      total = tf.add(total, tf.mul(weight, l));
    }
    return { loss: total, parts };
  });
}

/**
 * The `ce` and `dice` terms (no class weights) and their gradient in two passes over the logits, as one
 * differentiable op: the composed form is ~40 tensor ops over [B, H, W, C] and as many in the backward pass.
 * Same definitions as above (sums in float64). Gradient: w_ce·(p − y)·valid / N for cross-entropy; for Dice,
 * ∂/∂p_c = −(2·present_c / C)·(y_c·card_c − inter_c) / card_c² on counted pixels (0 where card_c ≤ 1e-7, as the
 * max(card, 1e-7) gives), taken through the softmax: ∂z_k = p_k·(g_k − Σ_j p_j·g_j).
 */
function ceDiceLoss(logits: tf.Tensor4D, target: tf.Tensor3D, terms: LossSpec['terms']): { loss: tf.Scalar; parts: Record<string, tf.Scalar> } {
  const c = logits.shape[3];
  const wCe = terms.find((t) => t.name === 'ce')?.weight ?? 0;
  const wDice = terms.find((t) => t.name === 'dice')?.weight ?? 0;
  let ceValue = 0;
  let diceValue = 0;
  const op = tf.customGrad((x) => {
    // log-probabilities and probabilities by the backend's (vectorised) kernels; the sums in JavaScript.
    // (Read inside the tidy: a tidy's return value is walked element by element looking for tensors.)
    let logp: Float32Array = new Float32Array(0);
    let probs: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      const lp = tf.logSoftmax(x as tf.Tensor);
      logp = lp.dataSync() as Float32Array;
      probs = tf.exp(lp).dataSync() as Float32Array;
    });
    const z = probs;
    const t = target.dataSync();
    const n = t.length;
    const inter = new Float64Array(c);
    const card = new Float64Array(c);
    const count = new Float64Array(c);
    let nll = 0;
    let valid = 0;
    for (let i = 0; i < n; i++) {
      const y = t[i];
      const o = i * c;
      if (y === IGNORE) {
        probs.fill(0, o, o + c); // ignored pixels count nowhere
        continue;
      }
      valid++;
      nll -= logp[o + y];
      for (let k = 0; k < c; k++) card[k] += probs[o + k];
      inter[y] += probs[o + y];
      card[y] += 1;
      count[y] += 1;
    }
    ceValue = nll / Math.max(valid, 1e-7);
    let dice = 0;
    const g = new Float64Array(c); // ∂dice/∂p_c without the y_c·card_c term's y
    const gy = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      if (!count[k]) continue;
      const cd = Math.max(card[k], 1e-7);
      dice += 1 - (2 * inter[k]) / cd;
      if (card[k] > 1e-7) {
        g[k] = ((-2 / c) * -inter[k]) / (card[k] * card[k]);
        gy[k] = ((-2 / c) * card[k]) / (card[k] * card[k]);
      }
    }
    diceValue = dice / c;
    const value = tf.scalar(wCe * ceValue + wDice * diceValue);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const scale = (dy as tf.Tensor).dataSync()[0];
        const grad = new Float32Array(z.length);
        const gk = new Float64Array(c);
        const ceScale = (scale * wCe) / valid;
        for (let k = 0; k < c; k++) gk[k] = wDice * g[k];
        for (let i = 0; i < n; i++) {
          const y = t[i];
          if (y === IGNORE) continue;
          const o = i * c;
          // ∂dice/∂p_k for this pixel: the class-wide part, plus the truth class's own term.
          let dot = wDice * gy[y] * probs[o + y];
          for (let k = 0; k < c; k++) dot += probs[o + k] * gk[k];
          for (let k = 0; k < c; k++) {
            const p = probs[o + k];
            grad[o + k] = ceScale * p + scale * p * (gk[k] - dot);
          }
          grad[o + y] += -ceScale + scale * probs[o + y] * wDice * gy[y];
        }
        return tf.tensor(grad, (x as tf.Tensor).shape);
      },
    };
  });
  const loss = op(logits) as tf.Scalar;
  const parts: Record<string, tf.Scalar> = {};
  for (const { name } of terms) parts[name] = tf.keep(tf.scalar(name === 'ce' ? ceValue : diceValue)); // read after the step's tidy, as the composed form's
  return { loss, parts };
}

function checkWeights(w: number[], c: number): number[] {
  if (w.length !== c) throw new Error(`class weights: ${w.length} given for ${c} classes; give one per class (background first)`);
  if (w.some((v) => !(v >= 0))) throw new Error(`class weights must be ≥ 0, got ${w.join(', ')}`);
  return w;
}
