import { PLAIN_INFERENCE_CLASSES } from '../../infer/layers';
import { activation, autoPad, checkChannelsLast, type Ctx, hwioToOihw, OnnxExportError, pair, type Value } from './context';
import { conv1d, dot, globalPool1d, pool1d } from './convert-1d';

export { OnnxExportError } from './context';

function conv(ctx: Ctx, x: Value, depthwise: boolean): Value {
  checkChannelsLast(ctx);
  const { g, config, layer } = ctx;
  const xin = ctx.nchw(x);
  const shape = ctx.weightShape(depthwise ? 'depthwise_kernel' : 'kernel');
  let kernel = ctx.weight(depthwise ? 'depthwise_kernel' : 'kernel')!;
  let dims: number[];
  let group = 1;
  if (depthwise) {
    // [kh, kw, C, M] → [C·M, 1, kh, kw]; tfjs orders the outputs c·M + m, as ONNX's groups do.
    const [kh, kw, c, m] = shape;
    kernel = hwioToOihw(kernel, [kh, kw, 1, c * m]);
    dims = [c * m, 1, kh, kw];
    group = c;
  } else {
    kernel = hwioToOihw(kernel, shape);
    dims = [shape[3], shape[2], shape[0], shape[1]];
  }
  const inputs = [xin.name, g.float(`${layer.name}/kernel`, kernel, dims)];
  const bias = ctx.weight('bias');
  if (bias) inputs.push(g.float(`${layer.name}/bias`, bias, [bias.length]));
  const act = (config.activation as string) ?? 'linear';
  const y = g.node('Conv', inputs, act === 'linear' ? ctx.out : g.fresh(layer.name), {
    kernel_shape: shape.slice(0, 2),
    strides: pair(config.strides ?? 1),
    dilations: pair(config.dilationRate ?? 1),
    auto_pad: autoPad(config.padding),
    group,
  });
  if (act !== 'linear') activation(g, act, y, ctx.out, `layer '${layer.name}'`, 1);
  return { name: ctx.out, rank: 4, layout: 'nchw' };
}

function convTranspose(ctx: Ctx, x: Value): Value {
  checkChannelsLast(ctx);
  const { g, config, layer } = ctx;
  const xin = ctx.nchw(x);
  const [kh, kw, co, ci] = ctx.weightShape('kernel');
  const kernel = hwioToOihw(ctx.weight('kernel')!, [kh, kw, co, ci]); // → [ci, co, kh, kw]
  const [sh, sw] = pair(config.strides ?? 1);
  if (config.dilationRate && pair(config.dilationRate).some((d) => d !== 1)) {
    throw new OnnxExportError(`layer '${layer.name}' (Conv2DTranspose): dilation is not supported`);
  }
  // tfjs: out = in·s ('same') or in·s + max(k − s, 0) ('valid'); ONNX: out = s·(in − 1) + k + outPad − padBegin − padEnd.
  const pads = [0, 0, 0, 0];
  const outPad = [0, 0];
  [
    [kh, sh],
    [kw, sw],
  ].forEach(([k, s], i) => {
    const total = config.padding === 'same' ? k - s : Math.min(k - s, 0);
    if (total >= 0) {
      pads[i] = Math.floor(total / 2);
      pads[i + 2] = total - pads[i];
    } else outPad[i] = -total;
  });
  const inputs = [xin.name, g.float(`${layer.name}/kernel`, kernel, [ci, co, kh, kw])];
  const bias = ctx.weight('bias');
  if (bias) inputs.push(g.float(`${layer.name}/bias`, bias, [bias.length]));
  const act = (config.activation as string) ?? 'linear';
  const y = g.node('ConvTranspose', inputs, act === 'linear' ? ctx.out : g.fresh(layer.name), {
    kernel_shape: [kh, kw],
    strides: [sh, sw],
    pads,
    output_padding: outPad,
  });
  if (act !== 'linear') activation(g, act, y, ctx.out, `layer '${layer.name}'`, 1);
  return { name: ctx.out, rank: 4, layout: 'nchw' };
}

function batchNorm(ctx: Ctx, x: Value): Value {
  const { g, config, layer } = ctx;
  const axis = (Array.isArray(config.axis) ? config.axis[0] : config.axis) as number;
  if (axis !== -1 && axis !== x.rank - 1)
    throw new OnnxExportError(`layer '${layer.name}' (BatchNormalization): only the last (channel) axis is supported, got ${axis}`);
  const v = x.rank >= 3 ? ctx.nchw(x) : x.rank === 2 ? x : null;
  if (!v) throw new OnnxExportError(`layer '${layer.name}' (BatchNormalization): inputs of rank ${x.rank} are not supported (2, 3 or 4)`);
  const mean = ctx.weight('moving_mean')!;
  const c = mean.length;
  const gamma = ctx.weight('gamma') ?? new Float32Array(c).fill(1);
  const beta = ctx.weight('beta') ?? new Float32Array(c);
  const names = [gamma, beta, mean, ctx.weight('moving_variance')!].map((d, i) => g.float(`${layer.name}/${['gamma', 'beta', 'mean', 'var'][i]}`, d, [c]));
  g.node('BatchNormalization', [v.name, ...names], ctx.out, { epsilon: { float: (config.epsilon as number) ?? 1e-3 } });
  return { ...v, name: ctx.out };
}

function pool(ctx: Ctx, x: Value, op: 'MaxPool' | 'AveragePool'): Value {
  checkChannelsLast(ctx);
  const xin = ctx.nchw(x);
  const size = pair(ctx.config.poolSize ?? 2);
  ctx.g.node(op, [xin.name], ctx.out, { kernel_shape: size, strides: pair(ctx.config.strides ?? size), auto_pad: autoPad(ctx.config.padding) });
  return { name: ctx.out, rank: 4, layout: 'nchw' };
}

function globalPool(ctx: Ctx, x: Value, op: 'GlobalAveragePool' | 'GlobalMaxPool'): Value {
  const xin = ctx.nchw(x);
  const pooled = ctx.g.node(op, [xin.name], ctx.g.fresh(ctx.layer.name));
  if (ctx.config.keepDims) {
    ctx.g.node('Identity', [pooled], ctx.out);
    return { name: ctx.out, rank: 4, layout: 'nchw' };
  }
  ctx.g.node('Flatten', [pooled], ctx.out, { axis: 1 });
  return { name: ctx.out, rank: 2, layout: 'plain' };
}

function dense(ctx: Ctx, x: Value): Value {
  const { g, layer, config } = ctx;
  const v = ctx.plain(x);
  const [fin, fout] = ctx.weightShape('kernel');
  let y = g.node('MatMul', [v.name, g.float(`${layer.name}/kernel`, ctx.weight('kernel')!, [fin, fout])], g.fresh(layer.name));
  const bias = ctx.weight('bias');
  if (bias) y = g.node('Add', [y, g.float(`${layer.name}/bias`, bias, [fout])], g.fresh(layer.name));
  activation(g, (config.activation as string) ?? 'linear', y, ctx.out, `layer '${layer.name}'`);
  return { name: ctx.out, rank: v.rank, layout: 'plain' };
}

/** Layers that do nothing at inference. */
const IDENTITY = new Set(['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'DropBlock2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

/** The ONNX node(s) of one layer applied to `inputs`. */
export function convertLayer(ctx: Ctx, inputs: Value[]): Value {
  const { g, layer, config } = ctx;
  const cls = PLAIN_INFERENCE_CLASSES[layer.getClassName()] ?? layer.getClassName();
  const where = `layer '${layer.name}' (${layer.getClassName()})`;
  const [x] = inputs;
  if (IDENTITY.has(cls)) {
    g.node('Identity', [x.name], ctx.out);
    return { ...x, name: ctx.out };
  }
  switch (cls) {
    case 'Conv2D':
      return conv(ctx, x, false);
    case 'DepthwiseConv2D':
      return conv(ctx, x, true);
    case 'Conv2DTranspose':
      return convTranspose(ctx, x);
    case 'BatchNormalization':
      return batchNorm(ctx, x);
    case 'MaxPooling2D':
      return pool(ctx, x, 'MaxPool');
    case 'AveragePooling2D':
      return pool(ctx, x, 'AveragePool');
    case 'GlobalAveragePooling2D':
      return globalPool(ctx, x, 'GlobalAveragePool');
    case 'GlobalMaxPooling2D':
      return globalPool(ctx, x, 'GlobalMaxPool');
    case 'Dense':
      return dense(ctx, x);
    case 'Conv1D':
      return conv1d(ctx, x);
    case 'MaxPooling1D':
      return pool1d(ctx, x, 'MaxPool');
    case 'AveragePooling1D':
      return pool1d(ctx, x, 'AveragePool');
    case 'GlobalAveragePooling1D':
      return globalPool1d(ctx, x, 'ReduceMean');
    case 'GlobalMaxPooling1D':
      return globalPool1d(ctx, x, 'ReduceMax');
    case 'Dot':
      return dot(ctx, inputs);
    case 'Activation':
      activation(g, config.activation as string, x.name, ctx.out, where, x.layout === 'nchw' ? 1 : -1);
      return { ...x, name: ctx.out };
    case 'ReLU': {
      if (config.maxValue != null) {
        const hi = g.float(g.fresh('max'), new Float32Array([config.maxValue as number]), []);
        g.node('Clip', [x.name, g.float(g.fresh('zero'), new Float32Array([0]), []), hi], ctx.out);
      } else g.node('Relu', [x.name], ctx.out);
      return { ...x, name: ctx.out };
    }
    case 'LeakyReLU':
      g.node('LeakyRelu', [x.name], ctx.out, { alpha: { float: (config.alpha as number) ?? 0.3 } });
      return { ...x, name: ctx.out };
    case 'ELU':
      g.node('Elu', [x.name], ctx.out, { alpha: { float: (config.alpha as number) ?? 1 } });
      return { ...x, name: ctx.out };
    case 'Softmax': {
      // tfjs's Softmax layer defaults to axis 1 (Keras: -1); any axis maps onto the NCHW layout.
      let axis = ([config.axis].flat()[0] as number) ?? -1;
      if (axis < 0) axis += x.rank;
      g.node('Softmax', [x.name], ctx.out, { axis: x.layout === 'nchw' ? [0, 2, 3, 1][axis] : axis });
      return { ...x, name: ctx.out };
    }
    case 'Add':
    case 'Multiply':
    case 'Subtract':
    case 'Maximum':
    case 'Minimum':
    case 'Average': {
      const nchw = inputs.every((v) => v.rank === inputs[0].rank && v.rank >= 3) && inputs.some((v) => v.layout === 'nchw');
      const vs = inputs.map((v) => (nchw ? ctx.nchw(v) : ctx.plain(v)));
      const op = { Add: 'Add', Multiply: 'Mul', Subtract: 'Sub', Maximum: 'Max', Minimum: 'Min', Average: 'Mean' }[cls]!;
      if (op === 'Sub' || vs.length === 2 || op === 'Max' || op === 'Min' || op === 'Mean')
        g.node(
          op,
          vs.map((v) => v.name),
          ctx.out,
        );
      else vs.slice(1).reduce((acc, v, i) => g.node(op, [acc, v.name], i === vs.length - 2 ? ctx.out : g.fresh(layer.name)), vs[0].name);
      return { name: ctx.out, rank: vs[0].rank, layout: vs[0].layout };
    }
    case 'Concatenate': {
      const rank = inputs[0].rank;
      let axis = (config.axis as number) ?? -1;
      if (axis < 0) axis += rank;
      const nchw = rank === 4 && inputs.some((v) => v.layout === 'nchw');
      const vs = inputs.map((v) => (nchw ? ctx.nchw(v) : ctx.plain(v)));
      g.node(
        'Concat',
        vs.map((v) => v.name),
        ctx.out,
        { axis: nchw ? [0, 2, 3, 1][axis] : axis },
      );
      return { name: ctx.out, rank, layout: nchw ? 'nchw' : 'plain' };
    }
    case 'Flatten': {
      const v = ctx.plain(x);
      g.node('Flatten', [v.name], ctx.out, { axis: 1 });
      return { name: ctx.out, rank: 2, layout: 'plain' };
    }
    case 'Reshape': {
      const v = ctx.plain(x);
      const target = config.targetShape as number[];
      g.node('Reshape', [v.name, g.int64(g.fresh(`${layer.name}/shape`), [0, ...target])], ctx.out);
      return { name: ctx.out, rank: target.length + 1, layout: 'plain' };
    }
    case 'UpSampling2D': {
      checkChannelsLast(ctx);
      const v = ctx.nchw(x);
      const [sh, sw] = pair(config.size ?? 2);
      const bilinear = config.interpolation === 'bilinear';
      const scales = g.float(g.fresh(`${layer.name}/scales`), new Float32Array([1, 1, sh, sw]), [4]);
      g.node('Resize', [v.name, '', scales], ctx.out, {
        mode: bilinear ? 'linear' : 'nearest',
        coordinate_transformation_mode: 'asymmetric',
        ...(bilinear ? {} : { nearest_mode: 'floor' }),
      });
      return { name: ctx.out, rank: 4, layout: 'nchw' };
    }
    case 'ZeroPadding2D': {
      checkChannelsLast(ctx);
      const v = ctx.nchw(x);
      const p = config.padding as number | [number, number] | [[number, number], [number, number]];
      const [[t, b], [l, r]] =
        typeof p === 'number'
          ? [
              [p, p],
              [p, p],
            ]
          : Array.isArray(p[0])
            ? (p as [[number, number], [number, number]])
            : [
                [p[0] as number, p[0] as number],
                [p[1] as number, p[1] as number],
              ];
      g.node('Pad', [v.name, g.int64(g.fresh(`${layer.name}/pads`), [0, 0, t, l, 0, 0, b, r])], ctx.out);
      return { name: ctx.out, rank: 4, layout: 'nchw' };
    }
    default:
      throw new OnnxExportError(
        `${where} has no ONNX converter; supported: Conv1D, Conv2D, DepthwiseConv2D, Conv2DTranspose, BatchNormalization, Dense, Activation, ReLU, LeakyReLU, ELU, Softmax, MaxPooling1D / 2D, AveragePooling1D / 2D, GlobalAveragePooling1D / 2D, GlobalMaxPooling1D / 2D, Dot, Add, Multiply, Subtract, Maximum, Minimum, Average, Concatenate, Flatten, Reshape, UpSampling2D, ZeroPadding2D, Dropout and the other inference-time identities`,
      );
  }
}

export type { Ctx, Value } from './context';
