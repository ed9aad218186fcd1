/** Decode and NMS: greedy class-aware NMS by hand, and the host decode against the tensor decode. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend, readSync } from '@cv/engine';
import { decodeOutputSteps, hostCandidates, makeAnchors, nms } from './boxes';
import { REG_MAX, STRIDES } from './models';

beforeAll(async () => {
  await initBackend({ log: false });
});

describe('decode and NMS', () => {
  it('keeps the best of overlapping boxes of one class, boxes of another class, and obeys conf and maxDet', () => {
    const boxes = [0, 0, 10, 10, 1, 1, 11, 11, 0, 0, 10, 10, 50, 50, 60, 60];
    const scores = [0.9, 0, 0.8, 0, 0, 0.7, 0.1, 0.05]; // K = 2: box 3 is below conf
    const kept = nms(boxes, scores, 2, { conf: 0.25, iou: 0.5 });
    expect(kept.map((d) => [d.classIndex, +d.score.toFixed(2)])).toEqual([
      [0, 0.9],
      [1, 0.7],
    ]);
    expect(nms(boxes, scores, 2, { conf: 0.25, iou: 0.5, maxDet: 1 }).length).toBe(1);
  });

  it("the host decode (only the anchors that can pass conf) gives the tensor decode's detections", () => {
    const anchors = makeAnchors([64, 96], STRIDES);
    const a = anchors.count;
    const k = 3;
    const b = 2;
    // Class logits spread so that some anchors pass each threshold; DFL logits random.
    const raw = tf.tidy(() =>
      tf.concat([tf.randomNormal([b, a, 4 * REG_MAX], 0, 2, 'float32', 5), tf.randomNormal([b, a, k], -2, 2, 'float32', 6)], -1),
    ) as tf.Tensor3D;
    const values = raw.dataSync();
    const { boxes, scores } = readSync(decodeOutputSteps(raw, anchors, k, REG_MAX));
    for (const conf of [0.25, 0.001, 0.9]) {
      const thresholds = { conf, iou: 0.6, maxDet: 300 };
      for (let i = 0; i < b; i++) {
        const want = nms(boxes.subarray(i * a * 4, (i + 1) * a * 4), scores.subarray(i * a * k, (i + 1) * a * k), k, thresholds);
        const c = hostCandidates(values, i, anchors, k, REG_MAX, conf);
        const got = nms(c.boxes, c.scores, k, thresholds);
        expect(want.length).toBeGreaterThan(0);
        expect(got.length).toBe(want.length);
        got.forEach((d, n) => {
          expect(d.classIndex).toBe(want[n].classIndex);
          expect(d.score).toBeCloseTo(want[n].score, 5);
          d.box.forEach((v, q) => expect(v).toBeCloseTo(want[n].box[q], 3));
        });
      }
    }
    raw.dispose();
  });
});
