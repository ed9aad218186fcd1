import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@cv/engine';
await initBackend();
const M = 12544, K = 288, N = 64;
const a = tf.randomNormal([M, K]); const b = tf.randomNormal([M, N]);
const at = tf.randomNormal([K, M]);
const time = (name: string, f: () => tf.Tensor) => { f().dispose(); const t0 = performance.now(); for (let i = 0; i < 5; i++) f().dispose(); console.log(name, ((performance.now() - t0) / 5).toFixed(1), 'ms'); };
time('transposeA', () => tf.matMul(a, b, true, false));
time('explicit transpose + mm', () => tf.tidy(() => tf.matMul(tf.transpose(a), b)));
time('plain KxM @ MxN', () => tf.matMul(at, b));
time('b^T a : [N,M]x[M,K] transposeA', () => tf.matMul(b, a, true, false));
const bt = tf.randomNormal([N, M]);
time('[N,M]x[M,K] plain', () => tf.matMul(bt, a));
time('[M,K]^T via transposeB trick: at x b', () => tf.matMul(at, b));
// conv trick
const x = tf.randomNormal([64, 14, 14, 32]); const dy = tf.randomNormal([64, 14, 14, 64]);
time('conv trick', () => tf.tidy(() => {
  const xt = tf.transpose(tf.pad(x, [[0,0],[1,1],[1,1],[0,0]]), [3, 1, 2, 0]) as tf.Tensor4D; // [Ci, Hp, Wp, N]
  const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [Ho, Wo, N, Co]
  return tf.conv2d(xt, f, 1, 'valid'); // [Ci, 3, 3, Co]
}));
const x2 = tf.randomNormal([64, 28, 28, 1]); const dy2 = tf.randomNormal([64, 28, 28, 32]);
time('conv trick layer1', () => tf.tidy(() => {
  const xt = tf.transpose(tf.pad(x2, [[0,0],[1,1],[1,1],[0,0]]), [3, 1, 2, 0]) as tf.Tensor4D;
  const f = tf.transpose(dy2, [1, 2, 0, 3]) as tf.Tensor4D;
  return tf.conv2d(xt, f, 1, 'valid');
}));
time('fwd conv2', () => tf.conv2d(x, tf.randomNormal([3,3,32,64]) as tf.Tensor4D, 1, 'same'));
