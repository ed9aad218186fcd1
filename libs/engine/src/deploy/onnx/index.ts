export { type AttrValue, ONNX_OPSET, OnnxGraph } from './graph';
export { OnnxExportError } from './convert';
export { modelToOnnx } from './export';
export { ONNX_FILE, ONNX_METADATA, OnnxModel, onnxMetadataProps, type OnnxSessionOptions } from './runtime';
export { openLocalModel, runtimeKeys } from './open';
