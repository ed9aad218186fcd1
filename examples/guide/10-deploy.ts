// Optimization and deployment: quantized weights, ONNX with ONNX Runtime, pruning — on a small model.
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { channelPrune, exportModel, exportOnnx, initBackend, magnitudePrune, OnnxModel, saveModel, sparsityOf } from '@cv/engine';

const backend = await initBackend({ log: false });
console.log(`backend ${backend.name}`);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'guide-deploy-'));
const init = (seed: number) => tf.initializers.glorotUniform({ seed });
const model = tf.sequential({
  layers: [
    tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: init(1) }),
    tf.layers.batchNormalization(),
    tf.layers.maxPooling2d({ poolSize: 2 }),
    tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }),
  ],
});
await saveModel(model, path.join(dir, 'fp32'), { task: 'classify', classNames: [...'0123456789'], inputShape: [28, 28, 1] });
const size = (d: string, f: string) => fs.statSync(path.join(dir, d, f)).size;

// Quantized weights: tfjs manifests carry them natively; any tfjs loader dequantizes on load.
for (const q of ['float16', 'uint8'] as const) {
  const diff = await exportModel(path.join(dir, 'fp32'), path.join(dir, q), { quantize: q });
  console.log(
    `${q.padEnd(7)} weights ${size(q, 'weights.bin')} bytes (fp32 ${size('fp32', 'weights.bin')}); outputs within ${diff < 1e-3 ? '1e-3' : diff < 1e-2 ? '1e-2' : diff.toExponential(0)}`,
  );
}

// ONNX: written by the suite's writer, checked by ONNX Runtime against tfjs before it is kept.
const parity = await exportOnnx(path.join(dir, 'fp32'), path.join(dir, 'onnx'));
const onnx = OnnxModel.load(path.join(dir, 'onnx'), { threads: 1 });
const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 1);
const same = tf.max(tf.abs(tf.sub(model.predict(x) as tf.Tensor, onnx.predict(x) as tf.Tensor))).dataSync()[0] < 1e-4;
console.log(`ONNX: ${fs.readdirSync(path.join(dir, 'onnx')).join(' + ')}; ONNX Runtime equals tfjs within 1e-4: ${parity < 1e-4 && same}`);

// Pruning: half the kernel weights to zero (global magnitude), or fewer channels (a smaller dense model).
tf.dispose(magnitudePrune(model, 0.5));
console.log(`magnitude pruning: kernel sparsity ${(100 * sparsityOf(model)).toFixed(1)} %`);
const narrow = await channelPrune(model, 0.5);
console.log(
  `channel pruning: ${narrow.layers.map((l) => `${l.layer.split('_')[0]} ${l.from}→${l.to}`).join(', ')}; ${model.countParams()} → ${narrow.model.countParams()} parameters`,
);
