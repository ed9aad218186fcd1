// Autograd: z = x² + y², its gradient, and one optimizer step by hand beside tfjs's own.
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@cv/engine';

await initBackend({ log: false });
// dz/dx = 2x, dz/dy = 2y: at (3, 4) the gradient is (6, 8).
const f = (x: tf.Tensor, y: tf.Tensor) => tf.add(tf.square(x), tf.square(y)) as tf.Scalar;
const [dx, dy] = tf.grads(f)([tf.scalar(3), tf.scalar(4)]);
console.log('tf.grads at (3, 4):', dx.dataSync()[0], dy.dataSync()[0]);

// variableGrads: gradients of a loss w.r.t. trainable variables (what every training step computes).
const x = tf.variable(tf.scalar(3), true, 'x');
const y = tf.variable(tf.scalar(4), true, 'y');
const { value, grads } = tf.variableGrads(() => f(x, y));
console.log('z =', value.dataSync()[0], ' dz/dx =', grads['x'].dataSync()[0], ' dz/dy =', grads['y'].dataSync()[0]);

// One SGD step by hand: w ← w − lr·grad ...
const lr = 0.1;
const handX = 3 - lr * grads['x'].dataSync()[0];
const handY = 4 - lr * grads['y'].dataSync()[0];
// ... and the same step by tfjs's optimizer.
tf.train.sgd(lr).applyGradients(grads);
console.log('by hand:', handX.toFixed(4), handY.toFixed(4), ' tf.train.sgd:', x.dataSync()[0].toFixed(4), y.dataSync()[0].toFixed(4));
console.log('z after the step:', f(x, y).dataSync()[0].toFixed(4), '(was 25)');
