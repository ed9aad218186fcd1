/**
 * The sequence task: the dilated causal convolution against tfjs's own dilated conv1d (forward) and an
 * unrolled form (gradients), causality, masking, CSV sources, the Predictor and tensor leaks.
 */
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, stepContext } from '@cv/engine';
import { loadCsvSequences, readCsvSequences } from './data';
import { DilatedCausalConv1D, MaskedGlobalAveragePooling1D } from './layers';
import { createSequenceModel, defaultDilations, tcnReceptiveField } from './models';
import { SequencePredictor } from './predictor';
import { padSequences, sequenceInputs } from './sequences';
import { SequenceLoader, SequenceTask } from './step';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** y[t] = b + Σ_j x[t + j·d] W[j] over the left-padded input: one matmul per tap (every gradient exists). */
function unrolled(x: tf.Tensor3D, w: tf.Tensor3D, b: tf.Tensor1D, d: number): tf.Tensor3D {
  const [n, steps, c] = x.shape;
  const k = w.shape[0];
  const xp = tf.pad(x, [
    [0, 0],
    [(k - 1) * d, 0],
    [0, 0],
  ]);
  let y: tf.Tensor = tf.zeros([n, steps, w.shape[2]]);
  for (let j = 0; j < k; j++) {
    const tap = tf.reshape(tf.slice(xp, [0, j * d, 0], [n, steps, c]), [n * steps, c]);
    y = tf.add(y, tf.reshape(tf.matMul(tap, tf.reshape(tf.slice(w, [j, 0, 0], [1, c, w.shape[2]]), [c, w.shape[2]])), [n, steps, w.shape[2]]));
  }
  return tf.add(y, b) as tf.Tensor3D;
}

describe('sequence task', () => {
  beforeAll(async () => {
    await initBackend({ log: false });
  });

  it('DilatedCausalConv1D equals tfjs dilated conv1d on the left-padded input, and the unrolled form in its gradients', () => {
    for (const [steps, d, k] of [
      [11, 1, 3],
      [11, 2, 3],
      [13, 4, 2],
      [9, 8, 3],
    ]) {
      const layer = new DilatedCausalConv1D({ filters: 4, kernelSize: k, dilationRate: d, kernelInitializer: tf.initializers.randomNormal({ seed: 1 }) });
      const x = tf.randomNormal([2, steps, 3], 0, 1, 'float32', 2) as tf.Tensor3D;
      const y = layer.apply(x) as tf.Tensor3D;
      const [w] = layer.getWeights() as [tf.Tensor3D];
      layer.setWeights([w, tf.randomNormal([4], 0, 1, 'float32', 3)]);
      const bias = layer.getWeights()[1] as tf.Tensor1D;
      const y2 = layer.apply(x) as tf.Tensor3D;
      const ref = tf.add(
        tf.conv1d(
          tf.pad(x, [
            [0, 0],
            [(k - 1) * d, 0],
            [0, 0],
          ]),
          w,
          1,
          'valid',
          'NWC',
          d,
        ),
        bias,
      );
      expect(y.shape).toEqual([2, steps, 4]);
      expect(maxDiff(y2, ref)).toBeLessThan(1e-5);
      expect(maxDiff(y2, unrolled(x, w, bias, d))).toBeLessThan(1e-5);
      // Gradients w.r.t. input and kernel match the unrolled form's.
      const lossOf = (xx: tf.Tensor3D, ww: tf.Tensor3D) => tf.sum(tf.square(unrolled(xx, ww, bias, d)));
      const [gx, gw] = tf.grads((xx: tf.Tensor, ww: tf.Tensor) => lossOf(xx as tf.Tensor3D, ww as tf.Tensor3D))([x, w]);
      const variable = layer.trainableWeights[0].read() as tf.Variable;
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x) as tf.Tensor)) as tf.Scalar, [variable]);
      expect(maxDiff(grads[variable.name], gw)).toBeLessThan(1e-3);
      const gxLayer = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(layer.apply(xx) as tf.Tensor)))(x);
      expect(maxDiff(gxLayer, gx)).toBeLessThan(1e-3);
    }
  });

  it('the TCN is causal: changing steps after t leaves outputs up to t unchanged; the receptive field covers the sequence', () => {
    expect(tcnReceptiveField(3, defaultDilations(28, 3))).toBeGreaterThanOrEqual(28);
    expect(tcnReceptiveField(3, defaultDilations(784, 3))).toBeGreaterThanOrEqual(784);
    const x = tf.input({ shape: [20, 2] });
    let h: tf.SymbolicTensor = x;
    for (const d of [1, 2, 4])
      h = new DilatedCausalConv1D({ filters: 3, kernelSize: 3, dilationRate: d, kernelInitializer: tf.initializers.randomNormal({ seed: d }) }).apply(
        h,
      ) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: h });
    const a = tf.randomNormal([1, 20, 2], 0, 1, 'float32', 5);
    const changed = tf.concat([tf.slice(a, [0, 0, 0], [1, 12, 2]), tf.randomNormal([1, 8, 2], 0, 1, 'float32', 6)], 1);
    const ya = model.predict(a) as tf.Tensor;
    const yb = model.predict(changed) as tf.Tensor;
    expect(maxDiff(tf.slice(ya, [0, 0, 0], [1, 12, 3]), tf.slice(yb, [0, 0, 0], [1, 12, 3]))).toBe(0);
    expect(maxDiff(tf.slice(ya, [0, 12, 0], [1, 8, 3]), tf.slice(yb, [0, 12, 0], [1, 8, 3]))).toBeGreaterThan(1e-3);
  });

  it('masked mean pools the valid steps only (hand values)', () => {
    const layer = new MaskedGlobalAveragePooling1D({});
    const x = tf.tensor3d([
      [
        [1, 10],
        [3, 20],
        [100, 100],
      ],
    ]);
    const mask = tf.tensor3d([[[1], [1], [0]]]);
    expect(Array.from((layer.apply([x, mask]) as tf.Tensor).dataSync())).toEqual([2, 15]);
    expect(Array.from((layer.apply([x, tf.zeros([1, 3, 1])]) as tf.Tensor).dataSync())).toEqual([0, 0]);
  });

  it.each(['conv1d', 'tcn'] as const)('%s: a sequence gets the same answer alone and padded beside a longer one', (name) => {
    const model = createSequenceModel(name, { steps: null, features: 2, numClasses: 3, width: 8, seed: 1 });
    model.setUserDefinedMetadata({ task: 'sequence', classNames: ['a', 'b', 'c'], steps: null, features: 2 });
    const p = new SequencePredictor(model);
    const short = Array.from({ length: 7 }, (_, t) => [Math.sin(t), Math.cos(t / 2)]);
    const long = Array.from({ length: 16 }, (_, t) => [t / 16, 1 - t / 16]);
    const [alone] = p.predict([short]);
    const [together] = p.predict([short, long]);
    alone.topK.forEach((c, i) => expect(Math.abs(c.probability - together.topK[i].probability)).toBeLessThan(1e-5));
    expect(() => p.predict([[[1, 2, 3]]])).toThrow(/every step needs 2 value/);
  });

  it('CSV: one row per sequence with variable lengths, or a folder of one-sequence files; bad cells are named', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seq-csv-'));
    const file = path.join(dir, 'rows.csv');
    fs.writeFileSync(file, 'label,v1,v2,v3,v4\nup,1,2,3,4\ndown,4,3,,\nup,0,1,,\n');
    const set = loadCsvSequences(file);
    expect(set.classNames).toEqual(['down', 'up']);
    expect(Array.from(set.labels)).toEqual([1, 0, 1]);
    expect(Array.from(set.lengths)).toEqual([4, 2, 2]);
    expect(set.steps).toBe(4);
    expect(Array.from(set.x.subarray(4, 8))).toEqual([4, 3, 0, 0]);
    const [, mask] = sequenceInputs(set);
    expect(Array.from(mask.dataSync().subarray(4, 8))).toEqual([1, 1, 0, 0]);
    const folder = path.join(dir, 'files');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'a.csv'), 'x,y,label\n1,2,circle\n3,4,circle\n5,6,circle\n');
    fs.writeFileSync(path.join(folder, 'b.csv'), 'x,y,label\n0,0,line\n1,1,line\n');
    const f = loadCsvSequences(folder);
    expect([f.steps, f.features, Array.from(f.lengths)]).toEqual([3, 2, [3, 2]]);
    fs.writeFileSync(path.join(dir, 'bad.csv'), 'label,v1,v2\nup,1,x\n');
    expect(() => loadCsvSequences(path.join(dir, 'bad.csv'))).toThrow(/bad.csv' line 2: 'x' is not a number/);
    expect(() => loadCsvSequences(file, 'class')).toThrow(/no 'class' column/);
    expect(readCsvSequences(path.join(folder, 'a.csv'), 'label', false).values.length).toBe(3);
  });

  it('training steps lower the loss and leak no tensors', async () => {
    const seqs = Array.from({ length: 32 }, (_, i) => Array.from({ length: 10 }, (_, t) => [i % 2 ? t / 10 : 1 - t / 10]));
    const set = { ...padSequences(seqs, 1), labels: Int32Array.from(seqs, (_, i) => i % 2), classNames: ['down', 'up'] };
    const model = createSequenceModel('tcn', { steps: 10, features: 1, numClasses: 2, width: 8, dropout: 0 });
    const task = new SequenceTask(model, tf.train.adam(1e-2), new SequenceLoader(set, 16));
    const losses: number[] = [];
    let before = 0;
    for (let epoch = 0; epoch < 6; epoch++) {
      for await (const batch of task.batches(epoch, epoch, 6)) {
        losses.push((await task.trainStep(batch, stepContext(losses.length))).loss);
        if (losses.length === 2) before = tf.memory().numTensors;
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(losses.at(-1)!).toBeLessThan(losses[0] * 0.5);
  });
});
