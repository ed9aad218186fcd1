// A 5×5 input, a 3×3 kernel: convolution, ReLU and 2×2 max pooling, computed by the engine (tfjs, wasm).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@cv/engine';

await initBackend({ log: false });
const input = tf.tensor4d([1, 2, 0, 1, 3, 0, 1, 3, 2, 1, 2, 0, 1, 0, 2, 1, 3, 2, 1, 0, 0, 1, 0, 2, 1], [1, 5, 5, 1]); // [batch, h, w, channels]
const kernel = tf.tensor4d([1, 0, -1, 1, 0, -1, 1, 0, -1], [3, 3, 1, 1]); // a vertical-edge detector, [kh, kw, in, out]
const show = (name: string, t: tf.Tensor) => {
  const [h, w] = t.shape.slice(1, 3);
  const v = t.dataSync();
  console.log(`${name} ${h}×${w}:`);
  for (let y = 0; y < h; y++) console.log('  ' + Array.from(v.slice(y * w, (y + 1) * w), (x) => String(x).padStart(3)).join(' '));
};
const valid = tf.conv2d(input, kernel, 1, 'valid'); // 5 − 3 + 1 = 3
const same = tf.conv2d(input, kernel, 1, 'same'); // zero padding keeps 5×5
show('conv valid', valid);
show('conv same', same);
show('relu(same)', tf.relu(same));
show('maxpool 2×2 of relu(same)', tf.maxPool(tf.relu(same) as tf.Tensor4D, 2, 2, 'valid'));
// The top-left output by hand: the 3×3 window times the kernel, summed.
console.log('valid, top-left, by hand:', 1 * 1 + 2 * 0 + 0 * -1 + 0 * 1 + 1 * 0 + 3 * -1 + 2 * 1 + 0 * 0 + 1 * -1);
