import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@cv/engine';
import { createClassifier, crossEntropy } from '@cv/tasks-classify';
await initBackend();
const model = createClassifier('reference-cnn', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
const opt: tf.Optimizer = tf.train.adam(1e-3);
const x = tf.randomNormal([64, 28, 28, 1]); const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32'), 10);
const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
const step = () => { const l = tf.tidy(() => { const { value, grads } = tf.variableGrads(() => crossEntropy(y, model.apply(x, { training: true }) as tf.Tensor), vars); opt.applyGradients(grads); return value; }); l.dataSync(); l.dispose(); };
for (let i = 0; i < 3; i++) step();
// Time top-level kernels by wrapping engine.runKernelFunc depth tracking.
const eng = tf.engine() as any;
const orig = eng.runKernelFunc.bind(eng);
let depth = 0; const times: Record<string, number> = {};
eng.runKernelFunc = (args: any) => { const t0 = performance.now(); depth++; try { return orig(args); } finally { depth--; if (depth === 0) { const k = args.kernelName ?? 'custom'; times[k] = (times[k] ?? 0) + performance.now() - t0; } } };
const N = 5; const t0 = performance.now(); for (let i = 0; i < N; i++) step(); const total = (performance.now() - t0) / N;
const rows = Object.entries(times).map(([k, v]) => [k, v / N] as const).sort((a, b) => b[1] - a[1]);
let acc = 0; for (const [k, v] of rows.slice(0, 22)) { acc += v; console.log(v.toFixed(1).padStart(7), k); }
console.log('step ms', total.toFixed(1), 'sum of kernels', rows.reduce((s, r) => s + r[1], 0).toFixed(1));
eng.runKernelFunc = (args: any) => { const t0 = performance.now(); depth++; try { return orig(args); } finally { depth--; if (depth === 0 && ['Sum', 'Tile', 'MaxPoolGrad', 'Conv2DBackpropFilter', 'Multiply'].includes(args.kernelName)) { const dt = performance.now() - t0; if (dt > 1) console.log(args.kernelName, JSON.stringify(Object.values(args.inputs).map((t: any) => t.shape)), JSON.stringify(args.attrs), dt.toFixed(1)); } } };
step();
