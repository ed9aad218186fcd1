import * as tf from '@tensorflow/tfjs';
import type { StepContext } from './types';
import { readsBackSync } from '../kernels/sync-read';
import { applyScaledGradients } from '../kernels/fused-adam';

/** A set of weights trained by one optimizer (e.g. the head, or a backbone at a lower learning rate). */
export interface ParamGroup {
  /** Key of the optimizer in the step's `optimizers`. */
  optimizer: string;
  /** Does this group own the weight with this name? */
  owns: (weightName: string) => boolean;
}

/** Weights that decay: kernels of conv/dense layers (not biases, BatchNorm scales or shifts), as is usual. */
export const isDecayed = (name: string): boolean => /kernel|depthwise_kernel/.test(name) && !/(bias|gamma|beta|moving)/.test(name);

/**
 * Decoupled weight decay (AdamW, Loshchilov & Hutter 2019): after the optimizer step, w ← w − lr·wd·w for
 * the decayed weights, independent of the gradient's scaling by Adam.
 *
 * @example
 * optimizer.applyGradients(grads); decoupledWeightDecay(vars, lr, 1e-4);
 */
export function decoupledWeightDecay(weights: tf.Variable[], lr: number, wd: number): void {
  if (wd === 0) return;
  const factor = 1 - lr * wd;
  tf.tidy(() => {
    for (const w of weights) if (isDecayed(w.name)) w.assign(tf.mul(w, factor));
  });
}

/** The global L2 norm of a set of gradients (as torch.nn.utils.clip_grad_norm_ measures it). */

export function globalNorm(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    // One kernel for all the tensors where the backend has it (the engine's wasm kernels).
    if (grads.length && grads.every((g) => g.dtype === 'float32') && tf.getKernel('CvSumSquares', tf.getBackend())) {
      return tf.sqrt(tf.engine().runKernel('CvSumSquares', grads as unknown as tf.NamedTensorMap, {}) as tf.Scalar);
    }
    return tf.sqrt(addMany(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  });
}

/**
 * tf.addN over any number of tensors. On WebGPU in groups of 7: tfjs-backend-webgpu's AddN binds every input to
 * one kernel and WebGPU guarantees only 8 storage buffers per kernel (a U-Net's 130 gradient norms fail to
 * compile); elsewhere one addN, as before (the same sums, bit for bit).
 */
export function addMany(ts: tf.Tensor[]): tf.Tensor {
  if (ts.length <= 7 || tf.getBackend() !== 'webgpu') return tf.addN(ts);
  let level = ts;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 7) next.push(level.length - i === 1 ? level[i] : tf.addN(level.slice(i, i + 7)));
    level = next;
  }
  return level[0];
}

/**
 * Does the micro-batch `batchIndex` of an epoch end an accumulation window of `k` micro-batches? The last
 * batch of an epoch always does, so no partial sum crosses an epoch (and a checkpoint) boundary.
 */
export function endsAccumulation(batchIndex: number, stepsPerEpoch: number, k: number): boolean {
  return k <= 1 || (batchIndex + 1) % k === 0 || batchIndex + 1 >= stepsPerEpoch;
}

export interface OptimizationStepOptions {
  /** The run's optimizers by name (the Trainer checkpoints them and schedules their learning rates). */
  optimizers: Record<string, tf.Optimizer>;
  /** Which optimizer updates which weights; default: every weight by the first optimizer. */
  groups?: () => ParamGroup[];
  /** Clip the gradients to this global L2 norm before applying them (0 = off). */
  clipNorm?: number;
  /** Accumulate the gradients of k micro-batches (their mean) before one update (1 = off). */
  accumulate?: number;
  /** Decoupled weight decay coefficient, scaled by each optimizer's current learning rate (0 = off). */
  weightDecay?: number;
}

/**
 * One optimisation step, the same for every task: gradients of the loss → (accumulated over k micro-batches)
 * → mean over data-parallel replicas → clipped by global norm → each parameter group's optimizer applies its
 * share (per-group learning rates come from the Trainer's `lrScales`) → decoupled weight decay.
 * tfjs optimizers do the update, so their slots checkpoint as before (and fused kernels stay in use).
 *
 * @example
 * const step = new OptimizationStep({ optimizers: { optimizer: tf.train.adam(1e-3) }, clipNorm: 10 });
 * const loss = step.run(() => lossOf(model, x, y), vars, ctx); // a scalar the caller disposes
 */
export class OptimizationStep {
  private sums: tf.NamedTensorMap | null = null;
  private micro = 0;
  /** Global norm of the last applied gradients before clipping (NaN before the first update). */
  lastNorm = NaN;

  constructor(readonly options: OptimizationStepOptions) {
    if ((options.accumulate ?? 1) < 1) throw new Error(`accumulate must be ≥ 1, got ${options.accumulate}`);
  }

  /**
   * Computes the gradients of `loss` over `vars` (the weights trained now; e.g. the model's trainable
   * weights) and updates them when the accumulation window ends. Returns the loss.
   */
  run(loss: () => tf.Scalar, vars: tf.Variable[], ctx: StepContext): tf.Scalar {
    return tf.tidy(() => {
      const { value, grads } = tf.variableGrads(loss, vars);
      this.accumulate(grads, vars, ctx);
      return value;
    });
  }

  /** Takes the gradients of one micro-batch (by variable name); updates the weights at the window's end. */
  accumulate(grads: tf.NamedTensorMap, vars: tf.Variable[], ctx: StepContext): void {
    const k = this.options.accumulate ?? 1;
    if (k > 1) {
      const prev = this.sums;
      this.sums = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.keep(prev ? tf.add(prev[n], g) : tf.clone(g))]));
      if (prev) tf.dispose(Object.values(prev));
      this.micro++;
      if (!endsAccumulation(ctx.batchIndex, ctx.stepsPerEpoch ?? Infinity, k)) return;
    }
    const summed = this.sums;
    const count = this.micro;
    this.sums = null;
    this.micro = 0;
    tf.tidy(() => {
      let g = summed ? Object.fromEntries(Object.entries(summed).map(([n, s]) => [n, tf.div(s, count)])) : grads;
      g = ctx.reduceGradients(g); // mean over replicas (identity with one)
      this.apply(this.clip(g), vars);
    });
    if (summed) tf.dispose(Object.values(summed));
  }

  /**
   * The gradients to apply and the factor to apply them with: below the limit (or without one) 1; above it,
   * max / (norm + 1e-6), multiplied in by the optimizer's update where it can (applyScaledGradients).
   */
  private clip(grads: tf.NamedTensorMap): { grads: tf.NamedTensorMap; scale: number } {
    const max = this.options.clipNorm ?? 0;
    if (!(max > 0)) return { grads, scale: 1 };
    if (!readsBackSync()) {
      // A GPU backend reads back asynchronously only: the scale stays a tensor (1 below the limit).
      const norm = globalNorm(Object.values(grads));
      const scale = tf.where(tf.greater(norm, max), tf.div(max, tf.add(norm, 1e-6)), tf.onesLike(norm));
      this.lastNorm = NaN;
      return { grads: Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.mul(g, scale)])), scale: 1 };
    }
    const norm = globalNorm(Object.values(grads)).dataSync()[0];
    this.lastNorm = norm;
    return { grads, scale: norm > max ? max / (norm + 1e-6) : 1 };
  }

  private apply({ grads, scale }: { grads: tf.NamedTensorMap; scale: number }, vars: tf.Variable[]): void {
    const { optimizers, groups, weightDecay = 0 } = this.options;
    const active = groups ? groups() : [{ optimizer: Object.keys(optimizers)[0], owns: () => true }];
    for (const group of active) {
      const mine = vars.filter((v) => group.owns(v.name) && grads[v.name]);
      if (!mine.length) continue;
      const optimizer = optimizers[group.optimizer];
      if (!optimizer) throw new Error(`parameter group names optimizer '${group.optimizer}', which is not one of ${Object.keys(optimizers).join(', ')}`);
      applyScaledGradients(optimizer, Object.fromEntries(mine.map((v) => [v.name, grads[v.name]])), scale);
      if (weightDecay) decoupledWeightDecay(mine, (optimizer as unknown as { learningRate: number }).learningRate, weightDecay);
    }
  }

  /** Releases a pending partial window (e.g. when a run stops between micro-batches). */
  dispose(): void {
    if (this.sums) tf.dispose(Object.values(this.sums));
    this.sums = null;
    this.micro = 0;
  }
}
