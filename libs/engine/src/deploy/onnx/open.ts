import fs from 'node:fs';
import path from 'node:path';
import { MODEL_JSON } from '../../infer/model-io';
import { loadModelFrom, setLocalModelOpener } from '../../infer/predictor';
import { needsStockRewrite, toStockModel } from '../stock-layers';
import { modelToOnnx } from './export';
import { ONNX_FILE, OnnxModel } from './runtime';

/**
 * Opens a local model folder under the runtime asked for: a folder with model.onnx runs on ONNX Runtime
 * (the default when it holds no model.json); `runtime: 'onnx'` on a tfjs folder converts it in memory.
 * Returns null where tfjs loads the folder as usual.
 */
export async function openLocalModel(source: string, options: { runtime?: 'tfjs' | 'onnx'; threads?: number }): Promise<OnnxModel | null> {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) || !fs.existsSync(source)) return null;
  const hasOnnx = fs.existsSync(path.join(source, ONNX_FILE));
  const hasTfjs = fs.existsSync(path.join(source, MODEL_JSON));
  if (options.runtime === 'tfjs' && hasOnnx && !hasTfjs) throw new Error(`'${source}' holds an ONNX model only; use --runtime onnx`);
  if (options.runtime !== 'onnx' && !(hasOnnx && !hasTfjs)) return null;
  if (hasOnnx) return OnnxModel.load(source, { threads: options.threads });
  const model = await loadModelFrom(source);
  const metadata = (model.getUserDefinedMetadata() ?? {}) as Record<string, unknown>;
  const stock = needsStockRewrite(model) ? toStockModel(model) : model;
  const bytes = modelToOnnx(stock, metadata);
  if (stock !== model) stock.dispose();
  model.dispose();
  return new OnnxModel(bytes, metadata, { threads: options.threads });
}

setLocalModelOpener(openLocalModel);

export { runtimeKeys } from '../../cli/job-schema';
