/** The reduction kernels the training step adds to tfjs-backend-wasm: CvSumSquares (clip norm) and UnsortedSegmentSum (gather's gradient). */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compare, run, values } from './oracle';
import { initBackend } from '../infer/backend';

describe('wasm reduction kernels match the cpu backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', log: false });
  });

  it('CvSumSquares: one kernel for the global norm of many tensors equals the composed form', async () => {
    const { globalNorm } = await import('../train/optim');
    await tf.setBackend('wasm');
    const ts = [[3, 3, 16, 8], [8], [1], [5, 7]].map((shape, i) =>
      tf.tensor(
        values(
          shape.reduce((p, v) => p * v, 1),
          30 + i,
        ),
        shape,
      ),
    );
    const fused = globalNorm(ts).dataSync()[0];
    const composed = tf.sqrt(tf.addN(ts.map((t) => tf.sum(tf.square(t))))).dataSync()[0];
    expect(tf.getKernel('CvSumSquares', 'wasm')).toBeDefined();
    expect(Math.abs(fused - composed)).toBeLessThan(1e-5 * composed);
    expect(globalNorm([tf.tensor([3, 4])]).dataSync()[0]).toBe(5);
    tf.dispose(ts);
  });

  it.each([
    { xShape: [7, 3, 5], ids: [2, 0, 2, 4, -1, 9, 0], n: 5 },
    { xShape: [6], ids: [0, 1, 0, 1, 2, 2], n: 3 },
  ])('UnsortedSegmentSum $xShape into $n segments (the gradient of gather; out-of-range ids dropped)', async (c) => {
    const ids = Int32Array.from(c.ids);
    const size = c.xShape.reduce((p, v) => p * v, 1);
    const inputs = { x: { shape: c.xShape, data: values(size, 21) }, segmentIds: { shape: [ids.length], data: ids } };
    await compare('UnsortedSegmentSum', inputs, { numSegments: c.n });
    const got = await run(
      'wasm',
      'UnsortedSegmentSum',
      { x: { shape: [3], data: Float32Array.from([1, 2, 4]) }, segmentIds: { shape: [3], data: Int32Array.from([1, 1, 0]) } },
      { numSegments: 2 },
    );
    expect(Array.from(got.data)).toEqual([4, 3]);
  });
});
