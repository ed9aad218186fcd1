import * as tf from '@tensorflow/tfjs';
import { type InferenceModel, type Predictor, rankClasses, readAsync, type Reads, readSync } from '@cv/engine/core';
import { padSequences, sequenceInputs } from './sequences';

/** What a saved sequence classifier carries in model.json's `userDefinedMetadata`. */
export interface SequenceMetadata {
  task: 'sequence';
  classNames: string[];
  /** Steps the model was trained on (sequences are padded or cut to it; null = any length) and features per step. */
  steps: number | null;
  features: number;
  dataset?: string;
  model?: string;
  [key: string]: unknown;
}

export interface SequencePrediction {
  index: number;
  label: string;
  probability: number;
  topK: { index: number; label: string; probability: number }[];
}

export function sequenceMetadata(model: InferenceModel, where = 'model'): SequenceMetadata {
  const meta = model.getUserDefinedMetadata() as Partial<SequenceMetadata> | undefined;
  if (!meta?.classNames || !meta.features) throw new Error(`${where} has no sequence metadata (classNames, features); use a model written by sequence:train`);
  return { ...meta, task: 'sequence' } as SequenceMetadata;
}

/**
 * Classifies sequences (each an array of steps, each step an array of `features` numbers), padded and
 * masked as in training. Pure tfjs: runs in Node and in browsers.
 *
 * @example
 * const p = new SequencePredictor(model);
 * const [r] = p.predict([[[0.1], [0.5], [0.9]]]); // { label: 'rising', probability: 0.98, topK }
 */
export class SequencePredictor implements Predictor {
  readonly task = 'sequence';
  readonly metadata: SequenceMetadata;

  constructor(
    readonly model: InferenceModel,
    readonly topK = 3,
  ) {
    this.metadata = sequenceMetadata(model);
  }

  predict(sequences: number[][][], topK = this.topK): SequencePrediction[] {
    return readSync(this.steps(sequences, topK));
  }

  /** The same answers, read back asynchronously (what a WebGPU backend needs). */
  predictAsync(sequences: number[][][], topK = this.topK): Promise<SequencePrediction[]> {
    return readAsync(this.steps(sequences, topK));
  }

  private *steps(sequences: number[][][], topK: number): Reads<SequencePrediction[]> {
    const { features, classNames } = this.metadata;
    sequences.forEach((s, i) => {
      if (!s.length || s.some((step) => step.length !== features))
        throw new Error(`sequence ${i}: every step needs ${features} value(s), and a sequence at least one step`);
    });
    const padded = padSequences(sequences, features, this.metadata.steps ?? Math.max(...sequences.map((s) => s.length)));
    const inputs = sequenceInputs(padded);
    const out = this.model.predict(inputs) as tf.Tensor;
    try {
      const probs = (yield out) as Float32Array;
      return sequences.map((_, i) => rankClasses(probs, i, classNames, topK));
    } finally {
      tf.dispose([out, ...inputs]);
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
