import * as tf from '@tensorflow/tfjs';
import { Callback, type Logs } from './callbacks';
import { registerEngineLayers } from '../infer/layers';
import { endsAccumulation } from './optim';

/**
 * Exponential moving average of a model's weights (Polyak averaging, as Ultralytics' ModelEMA and timm's
 * ModelEmaV2): after every optimizer update, ema ← d·ema + (1 − d)·w for every float weight (BatchNorm
 * moving statistics included), with the decay warmed up as d = decay·(1 − exp(−updates / tau)) so early
 * averages are not dominated by the random initial weights.
 *
 * @example
 * const ema = new ModelEma(model, await cloneModel(model), { decay: 0.9999, tau: 2000 });
 * ema.update(); // after each optimizer step
 */
export class ModelEma {
  /** Updates done so far (checkpointed: a resumed run continues the warm-up exactly). */
  updates = 0;
  readonly decay: number;
  readonly tau: number;

  constructor(
    readonly source: tf.LayersModel,
    readonly model: tf.LayersModel,
    options: { decay: number; tau?: number },
  ) {
    if (!(options.decay > 0 && options.decay < 1)) throw new Error(`EMA decay must be in (0, 1), got ${options.decay}`);
    this.decay = options.decay;
    this.tau = options.tau ?? 2000;
    this.pairs = source.layers.flatMap((layer, i) => layer.weights.map((w, j) => [w, model.layers[i].weights[j]] as const));
    if (this.pairs.some(([a, b]) => !b || a.shape.join() !== b.shape.join())) throw new Error('EMA model does not have the same architecture as its source');
    tf.tidy(() => this.pairs.forEach(([w, e]) => (e.read() as tf.Variable).assign(w.read()))); // starts as a copy (a resume overwrites it)
  }

  /**
   * Source and average weights paired layer by layer: a layer's own weight order does not change when it
   * is frozen, while the model-wide order (trainable first) does.
   */
  private readonly pairs: (readonly [tf.LayerVariable, tf.LayerVariable])[];

  /** The decay of the next update. */
  currentDecay(): number {
    return this.tau > 0 ? this.decay * (1 - Math.exp(-(this.updates + 1) / this.tau)) : this.decay;
  }

  update(): void {
    const d = this.currentDecay();
    this.updates++;
    tf.tidy(() => {
      const float = this.pairs.filter(([w]) => w.read().dtype === 'float32');
      if (float.length && tf.getKernel('CvEmaUpdate', tf.getBackend())) {
        // Every float pair in one kernel (the same float32 arithmetic as below); the rest is copied.
        const inputs: tf.NamedTensorMap = {};
        float.forEach(([w, e], i) => ((inputs[`e${i}`] = e.read()), (inputs[`w${i}`] = w.read())));
        const outs = tf.engine().runKernel('CvEmaUpdate', inputs, { decay: d }) as tf.Tensor[];
        float.forEach(([, e], i) => (e.read() as tf.Variable).assign(outs[i]));
        for (const [w, e] of this.pairs) if (w.read().dtype !== 'float32') (e.read() as tf.Variable).assign(w.read());
        return;
      }
      for (const [w, e] of this.pairs) {
        const target = e.read() as tf.Variable;
        const value = w.read();
        if (value.dtype !== 'float32') target.assign(value);
        else target.assign(tf.add(tf.mul(target, d), tf.mul(value, 1 - d)));
      }
    });
  }
}

/**
 * A copy of a LayersModel (same architecture and weights) made through tfjs serialization, so custom
 * layers registered with tfjs copy too.
 */
export async function cloneModel(model: tf.LayersModel): Promise<tf.LayersModel> {
  registerEngineLayers();
  let artifacts: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tf.loadLayersModel(tf.io.fromMemory(artifacts!));
}

/**
 * Runs a `ModelEma` in a Trainer: updates after each optimizer step (with gradient accumulation, after
 * each window), state in the checkpoint. Replica 0 only: it alone validates and saves the average.
 */
export class EmaCallback extends Callback {
  readonly name: string;

  constructor(
    readonly ema: ModelEma,
    readonly accumulate = 1,
    name = 'ModelEma',
  ) {
    super();
    this.name = name;
  }

  onTrainBatchEnd(_step: number, _logs: Logs): void {
    if (endsAccumulation(this.trainer.batchIndex, this.trainer.stepsPerEpoch, this.accumulate)) this.ema.update();
  }

  getState() {
    return { updates: this.ema.updates };
  }

  setState(s: unknown): void {
    this.ema.updates = (s as { updates: number }).updates;
  }
}
