import * as tf from '@tensorflow/tfjs';

/** Labelled sequences padded to one length: x [N, steps, features] (padding 0) with each one's valid length. */
export interface SequenceSet {
  x: Float32Array;
  lengths: Int32Array;
  steps: number;
  features: number;
  labels: Int32Array;
  classNames: string[];
}

/** Pads sequences (each [length][features]) at the end to the longest (or `steps`, truncating). */
export function padSequences(seqs: number[][][], features: number, steps = Math.max(...seqs.map((s) => s.length))) {
  const x = new Float32Array(seqs.length * steps * features);
  const lengths = new Int32Array(seqs.length);
  seqs.forEach((s, i) => {
    lengths[i] = Math.min(s.length, steps);
    for (let t = 0; t < lengths[i]; t++) for (let f = 0; f < features; f++) x[(i * steps + t) * features + f] = s[t][f];
  });
  return { x, lengths, steps, features };
}

/** The sequences at `idx`, in that order. */
export function subsetSequences(set: SequenceSet, idx: number[]): SequenceSet {
  const size = set.steps * set.features;
  const x = new Float32Array(idx.length * size);
  idx.forEach((j, i) => x.set(set.x.subarray(j * size, (j + 1) * size), i * size));
  return { ...set, x, lengths: Int32Array.from(idx, (j) => set.lengths[j]), labels: Int32Array.from(idx, (j) => set.labels[j]) };
}

/** Model inputs of sequences [from, to): x [n, steps, features] and the mask [n, steps, 1]. */
export function sequenceInputs(set: Pick<SequenceSet, 'x' | 'lengths' | 'steps' | 'features'>, from = 0, to = set.lengths.length): [tf.Tensor3D, tf.Tensor3D] {
  const n = to - from;
  const size = set.steps * set.features;
  const mask = new Float32Array(n * set.steps);
  for (let i = 0; i < n; i++) mask.fill(1, i * set.steps, i * set.steps + set.lengths[from + i]);
  return [tf.tensor3d(set.x.subarray(from * size, to * size), [n, set.steps, set.features]), tf.tensor3d(mask, [n, set.steps, 1])];
}
