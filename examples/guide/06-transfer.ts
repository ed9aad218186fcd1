// Transfer learning: a registry backbone with its feature map, pretrained weights, freezing by stage.
import * as tf from '@tensorflow/tfjs';
import { createBackbone, freezeUpTo, listBackbones, loadPretrained } from '@cv/backbones';
import { initBackend } from '@cv/engine';

await initBackend({ log: false });
console.log('backbones:', listBackbones().join(', '));
const { model, featureInfo } = createBackbone('resnet-s', { inputShape: [28, 28, 1], featuresOnly: true });
for (const f of featureInfo) console.log(`  ${f.name.padEnd(7)} reduction ${String(f.reduction).padStart(2)}  channels ${f.channels}`);
const report = await loadPretrained(model, 'resnet-s', 'models/backbones/resnet-s');
console.log(`pretrained: ${report.loaded.length} layers loaded from ${report.source}, ${report.skipped.length} skipped`);
const trainable = () => model.trainableWeights.reduce((s, w) => s + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
console.log('trainable parameters:', trainable());
freezeUpTo(model, featureInfo, 'stage2'); // stem, stage1 and stage2 frozen: only the later stages learn
console.log('after freezing up to stage2:', trainable());
const maps = model.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor[];
console.log('feature maps:', maps.map((m) => JSON.stringify(m.shape)).join(' '));
