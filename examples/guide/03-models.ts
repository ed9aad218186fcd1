// Building models: a custom layer class, a Sequential SimpleCNN, the same as a functional model, summary().
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@cv/engine';

await initBackend({ log: false });

/** A convolution + ReLU as one layer, with its own weights (the seed's CustomConvLayer). */
class CustomConvLayer extends tf.layers.Layer {
  static className = 'CustomConvLayer';
  private kernel!: tf.LayerVariable;
  constructor(
    readonly filters: number,
    readonly kernelSize: number,
  ) {
    super({});
  }
  build(inputShape: tf.Shape): void {
    const init = tf.initializers.glorotUniform({ seed: 1 });
    this.kernel = this.addWeight('kernel', [this.kernelSize, this.kernelSize, inputShape[3] as number, this.filters], 'float32', init);
  }
  computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [inputShape[0], inputShape[1], inputShape[2], this.filters];
  }
  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.relu(tf.conv2d((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D, this.kernel.read() as tf.Tensor4D, 1, 'same'));
  }
  getConfig() {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize };
  }
}
tf.serialization.registerClass(CustomConvLayer);

// SimpleCNN as a Sequential model.
const simple = tf.sequential({ name: 'SimpleCNN' });
simple.add(tf.layers.inputLayer({ inputShape: [28, 28, 1] }));
simple.add(new CustomConvLayer(8, 3));
simple.add(tf.layers.maxPooling2d({ poolSize: 2 }));
simple.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }));
simple.add(tf.layers.globalAveragePooling2d({}));
simple.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
simple.summary(80);

// The same network, functional style: layers called on symbolic tensors (branches and merges are possible).
const input = tf.input({ shape: [28, 28, 1] });
let h = new CustomConvLayer(8, 3).apply(input) as tf.SymbolicTensor;
h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
const a = tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(h) as tf.SymbolicTensor;
const b = tf.layers.conv2d({ filters: 16, kernelSize: 1, activation: 'relu' }).apply(h) as tf.SymbolicTensor; // a second branch
h = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
const out = tf.layers
  .dense({ units: 10, activation: 'softmax' })
  .apply(tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor) as tf.SymbolicTensor;
const functional = tf.model({ inputs: input, outputs: out });
console.log(
  'functional model:',
  functional.layers.length,
  'layers,',
  functional.countParams(),
  'parameters; output',
  JSON.stringify(functional.outputs[0].shape),
);
console.log('a batch of 2 images →', JSON.stringify((simple.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape));
