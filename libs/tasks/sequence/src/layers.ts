import * as tf from '@tensorflow/tfjs';

/**
 * Mean over the valid time steps: inputs [features [N, T, C], mask [N, T, 1]] (1 = a step of the sequence,
 * 0 = padding) → [N, C]. A sequence with no valid step gives zeros.
 */
export class MaskedGlobalAveragePooling1D extends tf.layers.Layer {
  static className = 'MaskedGlobalAveragePooling1D';

  computeOutputShape(inputShape: tf.Shape[]): tf.Shape {
    return [inputShape[0][0], inputShape[0][2]];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, mask] = inputs as tf.Tensor[];
      const sum = tf.sum(tf.mul(x, mask), 1);
      return tf.div(sum, tf.maximum(tf.sum(mask, 1), 1));
    });
  }
}

/**
 * Left (past) zero padding of a sequence by `padding` steps: [N, T, C] → [N, T + padding, C]. Before a
 * 'valid' dilated Conv1D with padding (k − 1)·d this makes the convolution causal (tfjs's own 'causal'
 * padding ignores the dilation).
 */
export class CausalPadding1D extends tf.layers.Layer {
  static className = 'CausalPadding1D';
  readonly padding: number;

  constructor(args: { padding: number; name?: string }) {
    super({ name: args.name });
    this.padding = args.padding;
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    const steps = inputShape[1];
    return [inputShape[0], steps === null ? null : steps + this.padding, inputShape[2]];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.pad(x, [
      [0, 0],
      [this.padding, 0],
      [0, 0],
    ]);
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}

/**
 * A causal dilated 1-D convolution: y[t] = b + Σ_j W[j] · x[t − (k − 1 − j)·d], zero before the start, so step t
 * sees steps ≤ t only. tfjs has no gradient for dilated convolutions, so this computes one through its phases:
 * the left-padded sequence is split into d interleaved phases (x_r[m] = x[m·d + r]), each phase meets the kernel
 * in an ordinary stride-1 convolution (one batched Conv1D), and the phases are interleaved back — the same
 * multiply-adds, with gradients from the plain kernels.
 */
export class DilatedCausalConv1D extends tf.layers.Layer {
  static className = 'DilatedCausalConv1D';
  readonly filters: number;
  readonly kernelSize: number;
  readonly dilationRate: number;
  private readonly kernelInit: ReturnType<typeof tf.initializers.heNormal>;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: {
    filters: number;
    kernelSize: number;
    dilationRate: number;
    kernelInitializer?: ReturnType<typeof tf.initializers.heNormal>;
    name?: string;
  }) {
    super({ name: args.name });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.dilationRate = args.dilationRate;
    this.kernelInit = args.kernelInitializer ?? tf.initializers.heNormal({});
  }

  build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    this.kernel = this.addWeight('kernel', [this.kernelSize, shape[2] as number, this.filters], 'float32', this.kernelInit);
    this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [inputShape[0], inputShape[1], this.filters];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [n, steps, c] = x.shape;
      const d = this.dilationRate;
      const k = this.kernelSize;
      const w = this.kernel.read() as tf.Tensor3D;
      if (d === 1)
        return tf.add(
          tf.conv1d(
            tf.pad(x, [
              [0, 0],
              [k - 1, 0],
              [0, 0],
            ]),
            w,
            1,
            'valid',
          ),
          this.bias.read(),
        );
      const padded = steps + (k - 1) * d;
      const q = Math.ceil(padded / d);
      const xp = tf.pad(x, [
        [0, 0],
        [(k - 1) * d, q * d - padded],
        [0, 0],
      ]);
      const phases = tf.reshape(tf.transpose(tf.reshape(xp, [n, q, d, c]), [0, 2, 1, 3]), [n * d, q, c]) as tf.Tensor3D;
      const y = tf.conv1d(phases, w, 1, 'valid'); // [n·d, q − k + 1, filters]
      const out = tf.reshape(tf.transpose(tf.reshape(y, [n, d, q - k + 1, this.filters]), [0, 2, 1, 3]), [n, (q - k + 1) * d, this.filters]);
      return tf.add(tf.slice(out as tf.Tensor3D, [0, 0, 0], [n, steps, this.filters]), this.bias.read());
    });
  }

  getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, dilationRate: this.dilationRate };
  }
}

let registered = false;
/** Registers the sequence task's layers for model loading (idempotent). */
export function registerSequenceLayers(): void {
  if (registered) return;
  registered = true;
  tf.serialization.registerClass(MaskedGlobalAveragePooling1D);
  tf.serialization.registerClass(CausalPadding1D);
  tf.serialization.registerClass(DilatedCausalConv1D);
}
