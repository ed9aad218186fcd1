import * as tf from '@tensorflow/tfjs';
import { readsBackSync } from './sync-read';

/**
 * tfjs's AdamOptimizer.applyGradients with each variable's update as one kernel, `CvAdam`, wherever the current
 * backend has one (the oneDNN kernel on wasm, the WGSL kernel on webgpu) instead of ~12 ops per variable; tfjs's
 * own code everywhere else. Same slots, same accumulators, same order of assignments, so checkpoints and resume
 * are unchanged.
 *
 * The kernel takes `value, gradient, m, v` and attributes `lr, beta1, beta2, epsilon`, and the bias corrections
 * c1, c2 = 1 − β^t in float32: as numbers (attributes) on backends that read back synchronously (the oneDNN
 * kernel), else as a tensor input `corrections` made on the device by the backend's `CvAdamCorrections` (no
 * read-back in a step). Where the backend has `CvAdamBetas`, accBeta1/2 advance through it too (no scalar tensor
 * from a JavaScript number).
 */

/** The private members of tfjs's AdamOptimizer that its update reads (tfjs-core 4.22). */
interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}
type ApplyGradients = (this: tf.AdamOptimizer, grads: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]) => void;
const adamProto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
const original = adamProto.applyGradients;

/**
 * The fused update of `variableGradients`, each gradient multiplied by `gradScale` first (gradient clipping's
 * factor, the product tf.mul(g, gradScale) would give; 1 = none). With `CvAdamMany` (the oneDNN path) every
 * variable in one kernel; else one `CvAdam` per variable (a `gradScale` ≠ 1 needs CvAdamMany: see
 * applyScaledGradients).
 */
function fusedApply(self: AdamInternals, variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[], gradScale: number): void {
  const backend = tf.getBackend();
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  const vars = names.map((name) => tf.engine().registeredVariables[name]);
  tf.tidy(() => {
    // 1 − β^t in float32, as tfjs's sub(1, accBeta) computes it (a GPU kernel computes it from accBeta itself).
    const sync = readsBackSync(backend) || !tf.getKernel('CvAdamCorrections', backend);
    const attrs: tf.NamedAttrMap = sync ? { c1: tf.sub(1, self.accBeta1).dataSync()[0], c2: tf.sub(1, self.accBeta2).dataSync()[0] } : {};
    const corrections: tf.NamedTensorMap = sync
      ? {}
      : { corrections: (tf.engine().runKernel('CvAdamCorrections', { accBeta1: self.accBeta1, accBeta2: self.accBeta2 }, {}) as tf.Tensor[])[0] };
    const hyper = { lr: self.learningRate, beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon, ...attrs };
    const updates: { value: tf.Variable; m: tf.Variable; v: tf.Variable; gradient: tf.Tensor }[] = [];
    names.forEach((name, i) => {
      const value = vars[i];
      for (const [slots, suffix] of [
        [self.accumulatedFirstMoment, 'm'],
        [self.accumulatedSecondMoment, 'v'],
      ] as const) {
        slots[i] ??= { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      }
      const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      updates.push({ value, gradient, m: self.accumulatedFirstMoment[i]!.variable, v: self.accumulatedSecondMoment[i]!.variable });
    });
    const many = sync && !!tf.getKernel('CvAdamMany', backend);
    if (gradScale !== 1 && !many) throw new Error('fusedApply: a gradient scale needs the CvAdamMany kernel');
    if (many && updates.length) {
      const inputs: tf.NamedTensorMap = {};
      updates.forEach(({ value, gradient, m, v }, k) =>
        Object.assign(inputs, { [`value${k}`]: value, [`gradient${k}`]: gradient, [`m${k}`]: m, [`v${k}`]: v }),
      );
      const outs = tf.engine().runKernel('CvAdamMany', inputs, { ...hyper, gradScale }) as tf.Tensor[];
      updates.forEach(({ value, m, v }, k) => {
        m.assign(outs[3 * k + 1]);
        v.assign(outs[3 * k + 2]);
        value.assign(outs[3 * k]);
      });
    } else {
      for (const { value, gradient, m, v } of updates) {
        const [value2, m2, v2] = tf.engine().runKernel('CvAdam', { value, gradient, m, v, ...corrections }, hyper) as tf.Tensor[];
        m.assign(m2);
        v.assign(v2);
        value.assign(value2);
      }
    }
    if (tf.getKernel('CvAdamBetas', backend)) {
      const [b1, b2] = tf
        .engine()
        .runKernel('CvAdamBetas', { accBeta1: self.accBeta1, accBeta2: self.accBeta2 }, { beta1: self.beta1, beta2: self.beta2 }) as tf.Tensor[];
      self.accBeta1.assign(b1);
      self.accBeta2.assign(b2);
    } else {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    }
  });
  self.incrementIterations();
}

const fusable = (variableGradients: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]) => {
  const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  return !!tf.getKernel('CvAdam', tf.getBackend()) && names.every((name) => tf.engine().registeredVariables[name]?.dtype === 'float32');
};

const fusedApplyGradients: ApplyGradients = function (this: tf.AdamOptimizer, variableGradients) {
  if (!fusable(variableGradients)) original.call(this, variableGradients);
  else fusedApply(this as unknown as AdamInternals, variableGradients, 1);
};

/**
 * `optimizer.applyGradients` of the gradients multiplied by `scale` (gradient clipping's factor). An Adam whose
 * backend has `CvAdamMany` multiplies inside its update kernel (the same float32 products, no extra pass over
 * the gradients); any other optimizer or backend gets tf.mul(g, scale) first, as before.
 *
 * @example
 * applyScaledGradients(optimizer, grads, maxNorm / (norm + 1e-6));
 */
export function applyScaledGradients(optimizer: tf.Optimizer, grads: tf.NamedTensorMap, scale: number): void {
  const inKernel =
    Object.prototype.isPrototypeOf.call(tf.AdamOptimizer.prototype, optimizer) && // not instanceof: tfjs's optimizers answer it by duck typing
    adamProto.applyGradients === fusedApplyGradients &&
    readsBackSync(tf.getBackend()) &&
    !!tf.getKernel('CvAdamMany', tf.getBackend()) &&
    fusable(grads);
  if (scale === 1) optimizer.applyGradients(grads);
  else if (inKernel) fusedApply(optimizer as unknown as AdamInternals, grads, scale);
  else tf.tidy(() => optimizer.applyGradients(Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, tf.mul(g, scale)]))));
}

/** Routes every AdamOptimizer through `CvAdam` where the current backend registers it (idempotent). */
export function installFusedAdam(): void {
  adamProto.applyGradients = fusedApplyGradients;
}
