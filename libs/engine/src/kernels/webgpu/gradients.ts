import * as tf from '@tensorflow/tfjs';

/**
 * The gradients of Sum and Mean with the ones made on the device. tfjs writes them as `dy · ones(x.shape)`, and
 * `ones` is made in JavaScript memory: on a GPU backend every Sum or Mean in a step (BatchNorm's moments, the
 * losses' means) uploads an activation-sized array of ones, each step. `onesLike(x)` is a fill kernel on the GPU;
 * the arithmetic is tfjs's, so the values are bit-equal. (Not `broadcastTo`: tfjs-backend-webgpu runs Tile on the
 * CPU when its input is a small CPU-resident tensor, such as the loss's seed gradient, and uploads the result.)
 * Registered with the engine's WebGPU kernels (gradients are not per backend; the values are the same on every
 * backend).
 */
/** The reduced axes (all of them when none are named, as tfjs reads a missing axis). */
const axesOf = (axis: number | number[] | undefined, shape: number[]) => (axis == null ? shape.map((_, i) => i) : tf.util.parseAxisParam(axis, shape));

function expanded(dy: tf.Tensor, x: tf.Tensor, axis: number | number[] | undefined): tf.Tensor {
  const shape = x.shape;
  const axes = axesOf(axis, shape);
  const kept = shape.slice();
  for (const a of axes) kept[a] = 1;
  return tf.mul(tf.reshape(dy, kept), tf.onesLike(x));
}

export const broadcastGradients: tf.GradConfig[] = [
  {
    kernelName: 'Sum',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      return { x: () => expanded(dy as tf.Tensor, x, (attrs as { axis?: number | number[] }).axis) };
    },
  },
  {
    kernelName: 'Mean',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axis = (attrs as { axis?: number | number[] }).axis;
      const reduceSize = axesOf(axis, x.shape).reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(expanded(dy as tf.Tensor, x, axis), reduceSize) };
    },
  },
];
