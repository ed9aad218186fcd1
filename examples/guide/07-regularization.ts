// Regularization: what label smoothing, mixup and DropBlock do to numbers you can check by hand.
import * as tf from '@tensorflow/tfjs';
import { initBackend, Rng } from '@cv/engine';
import { DropBlock2D, mixup, smoothLabels } from '@cv/regularization';

await initBackend({ log: false });
// Label smoothing 0.1 over 4 classes: the true class gets 1 − 0.1 + 0.1/4, the others 0.1/4.
const smooth = smoothLabels(tf.oneHot(tf.tensor1d([2], 'int32'), 4) as tf.Tensor2D, 0.1);
console.log('smoothed one-hot:', Array.from(smooth.dataSync(), (v) => v.toFixed(3)).join(' '));

// Mixup: images and labels blended with one weight λ (drawn from Beta(α, α), seeded).
const x = tf.tensor4d([0, 0, 0, 0, 1, 1, 1, 1], [2, 2, 2, 1]);
const y = tf.oneHot(tf.tensor1d([0, 1], 'int32'), 2) as tf.Tensor2D;
const mixed = mixup(x, y, 0.4, new Rng(3));
console.log(
  `mixup λ=${mixed.lambda.toFixed(3)}: first image's pixels ${Array.from(mixed.x.dataSync().slice(0, 4), (v) => v.toFixed(3)).join(' ')}, its label ${Array.from(mixed.y.dataSync().slice(0, 2), (v) => v.toFixed(3)).join(' ')}`,
);

// DropBlock: drops contiguous squares (here 3×3) of a feature map in training, nothing at inference.
const block = new DropBlock2D({ rate: 0.2, blockSize: 3 });
const ones = tf.ones([1, 8, 8, 1]);
block.setStepSeed(5);
const dropped = block.apply(ones, { training: true }) as tf.Tensor;
const kept = dropped.dataSync();
console.log(
  `DropBlock in training: ${kept.filter((v) => v === 0).length} of 64 units zeroed; at inference: ${(block.apply(ones) as tf.Tensor).dataSync().every((v) => v === 1)}`,
);
for (let r = 0; r < 8; r++) console.log('  ' + Array.from(kept.slice(r * 8, r * 8 + 8), (v) => (v === 0 ? '.' : '#')).join(''));
console.log('The ablation of each technique on Fashion-MNIST: docs/results/regularization.md');
