import * as tf from '@tensorflow/tfjs';
import { Callback } from '../train/callbacks';
import { PLAIN_INFERENCE_CLASSES } from '../infer/layers';

const classOf = (layer: tf.layers.Layer) => PLAIN_INFERENCE_CLASSES[layer.getClassName()] ?? layer.getClassName();
const KERNEL_LAYERS = new Set(['Conv2D', 'DepthwiseConv2D', 'Conv2DTranspose', 'Dense', 'Conv1D', 'SeparableConv2D']);

/** The weights magnitude pruning acts on: every kernel of a conv or dense layer (not biases, not BN). */
export function prunableKernels(model: tf.LayersModel): tf.LayerVariable[] {
  return model.layers.filter((l) => KERNEL_LAYERS.has(classOf(l))).flatMap((l) => l.weights.filter((w) => /kernel$/.test(w.originalName)));
}

/** The fraction of exact zeros among the prunable kernels' weights. */
export function sparsityOf(model: tf.LayersModel): number {
  let zeros = 0;
  let total = 0;
  for (const w of prunableKernels(model)) {
    const v = w.read().dataSync();
    total += v.length;
    for (let i = 0; i < v.length; i++) if (v[i] === 0) zeros++;
  }
  return total ? zeros / total : 0;
}

/**
 * Global unstructured magnitude pruning: the `sparsity` fraction of all prunable kernel weights with the
 * smallest |w| (one threshold across layers, so layers with many small weights lose more) set to 0.
 * Returns the 0/1 masks, one per kernel.
 */
export function magnitudePrune(model: tf.LayersModel, sparsity: number): tf.Tensor[] {
  const kernels = prunableKernels(model);
  const all = new Float32Array(kernels.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0));
  let at = 0;
  for (const w of kernels) {
    const v = w.read().dataSync();
    for (let i = 0; i < v.length; i++) all[at + i] = Math.abs(v[i]);
    at += v.length;
  }
  const k = Math.floor(sparsity * all.length);
  const threshold = k > 0 ? all.sort()[k - 1] : -Infinity;
  let below = 0;
  for (let i = 0; i < k; i++) if (all[i] < threshold) below++;
  let ties = k - below; // weights equal to the threshold still to prune, the first ones met
  return kernels.map((w) => {
    const v = w.read().dataSync();
    const mask = new Float32Array(v.length).fill(1);
    for (let i = 0; i < v.length; i++) {
      const a = Math.abs(v[i]);
      if (a < threshold || (a === threshold && ties-- > 0)) mask[i] = 0;
    }
    const m = tf.tensor(mask, w.shape as number[]);
    maskInPlace(w, m);
    return m;
  });
}

function maskInPlace(w: tf.LayerVariable, mask: tf.Tensor): void {
  const masked = tf.mul(w.read(), mask);
  w.write(masked);
  masked.dispose();
}

/** Zhu & Gupta's schedule: sparsity s·(1 − (1 − t)³) for progress t ∈ [0, 1]. */
export const polynomialSparsity = (target: number, progress: number) => target * (1 - (1 - Math.min(1, Math.max(0, progress))) ** 3);

/**
 * Magnitude pruning during a fine-tune: the sparsity ramps from 0 to `target` over the first `rampFraction`
 * of the planned steps (Zhu & Gupta's cubic schedule, the masks recomputed every `frequency` steps), and
 * the masks are re-applied after every step, so pruned weights stay 0 whatever the optimizer does.
 */
export class MagnitudePruning extends Callback {
  readonly name = 'MagnitudePruning';
  override readonly allReplicas = true;
  private masks: tf.Tensor[] = [];
  private current = 0;

  constructor(
    private readonly model: tf.LayersModel,
    readonly options: { target: number; frequency?: number; rampFraction?: number },
  ) {
    super();
  }

  /** The sparsity the schedule asks for after `step` of `total` steps. */
  targetAt(step: number, total: number): number {
    return polynomialSparsity(this.options.target, step / Math.max(1, total * (this.options.rampFraction ?? 0.6)));
  }

  onTrainBatchEnd(step: number): void {
    const total = this.trainer.totalSteps;
    const due = step % (this.options.frequency ?? 20) === 0 || this.targetAt(step, total) >= this.options.target;
    const target = this.targetAt(step, total);
    if (due && target > this.current) {
      tf.dispose(this.masks);
      this.masks = magnitudePrune(this.model, target);
      this.current = target;
      return;
    }
    const kernels = prunableKernels(this.model);
    this.masks.forEach((m, i) => maskInPlace(kernels[i], m));
  }

  onTrainEnd(): void {
    if (this.current < this.options.target) tf.dispose(magnitudePrune(this.model, this.options.target));
    tf.dispose(this.masks);
    this.masks = [];
  }

  getState(): unknown {
    return { current: this.current };
  }

  setState(state: unknown): void {
    // The masks are the zeros of the restored weights; the next due step recomputes them.
    this.current = 0;
    void state;
  }
}
