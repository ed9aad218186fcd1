import * as tf from '@tensorflow/tfjs';

/**
 * The engine's access to tfjs-backend-webgpu (4.22): its device, its tensors' GPU buffers and its command stream,
 * so the engine's WGSL kernels are recorded into the same compute pass as tfjs's own, in order, with no extra
 * submission. tfjs's `runWebGPUProgram` binds one output and read-only inputs with a generated header; the
 * engine's kernels need several outputs (Adam: value, m, v) and write their own headers, so they are dispatched
 * here with explicit bindings: inputs first (`@binding(0…)`, read), then outputs (read_write), then one uniform
 * block. Pipelines are compiled once per WGSL source.
 */

/** WebGPU buffer usage bits (the spec's constants; the `GPUBufferUsage` global exists only where Dawn installed it). */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;

interface GpuBuffer {
  size: number;
}
interface GpuPass {
  setPipeline(p: unknown): void;
  setBindGroup(i: number, g: unknown): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
}
interface TensorData {
  dtype: tf.DataType;
  shape: number[];
  values: ArrayLike<number> | null;
  resource: GpuBuffer | null;
  refCount: number;
}

/** The members of tfjs-backend-webgpu's WebGPUBackend the engine uses (tfjs 4.22). */
export interface WebgpuBackend {
  device: {
    createShaderModule(d: { code: string }): unknown;
    createComputePipeline(d: object): { getBindGroupLayout(i: number): unknown };
    createBindGroup(d: object): unknown;
    limits: { maxComputeWorkgroupsPerDimension: number };
  };
  queue: { writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number): void };
  tensorMap: { get(dataId: object): TensorData };
  bufferManager: { acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): GpuBuffer };
  commandEncoder: { beginComputePass(d: object): GpuPass } | null;
  computePassEncoder: GpuPass | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<object>;
  uniformPendingDisposal: GpuBuffer[];
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Counts of what crossed to the GPU since `resetCounters()` (bench:gpu reports them per training step). */
export const counters = { dispatches: 0, uploads: 0, scalarUploads: 0 };
export function resetCounters(): void {
  counters.dispatches = counters.uploads = counters.scalarUploads = 0;
}

const pipelines = new WeakMap<object, Map<string, { getBindGroupLayout(i: number): unknown }>>();

/** The compiled pipeline of a WGSL source (entry point `main`), cached per device. */
function pipelineOf(backend: WebgpuBackend, code: string): { getBindGroupLayout(i: number): unknown } {
  let cache = pipelines.get(backend.device);
  if (!cache) pipelines.set(backend.device, (cache = new Map()));
  let p = cache.get(code);
  if (!p) {
    p = backend.device.createComputePipeline({ layout: 'auto', compute: { module: backend.device.createShaderModule({ code }), entryPoint: 'main' } });
    cache.set(code, p);
  }
  return p;
}

/** How many dispatches tfjs records before it submits (its WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE). */
const batchSize = () => tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE');

export interface Dispatch {
  /** WGSL with `@binding(i)` for inputs, then outputs, then (if `uniforms`) the uniform block, in `@group(0)`. */
  code: string;
  inputs: tf.TensorInfo[];
  /** Outputs to allocate. */
  outputs: { shape: number[]; dtype: tf.DataType }[];
  /** The uniform block's bytes (multiple of 16 long; std140-like WGSL layout is the caller's). */
  uniforms?: ArrayBuffer;
  workgroups: [number, number, number];
}

/**
 * Records one compute dispatch in tfjs's current pass (and submits where tfjs would). Returns the outputs.
 * Every tensor it touches is marked as used by the pending command buffer, so tfjs defers freeing them until
 * the submission, as for its own programs.
 */
export function dispatch(backend: WebgpuBackend, d: Dispatch): tf.TensorInfo[] {
  const outputs = d.outputs.map((o) => backend.makeTensorInfo(o.shape, o.dtype));
  const tensors = [...d.inputs, ...outputs];
  for (const t of tensors) backend.uploadToGPU(t.dataId);
  const entries = tensors.map((t, i) => ({ binding: i, resource: { buffer: backend.tensorMap.get(t.dataId).resource } }));
  if (d.uniforms) {
    const buffer = backend.bufferManager.acquireBuffer(d.uniforms.byteLength, USAGE.COPY_DST | USAGE.UNIFORM);
    backend.queue.writeBuffer(buffer, 0, d.uniforms);
    backend.uniformPendingDisposal.push(buffer);
    entries.push({ binding: tensors.length, resource: { buffer } });
  }
  const pipeline = pipelineOf(backend, d.code);
  const group = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  for (const t of tensors) backend.commandQueueOwnedIds.add(t.dataId);
  backend.ensureCommandEncoderReady();
  backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass({});
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, group);
  backend.computePassEncoder.dispatchWorkgroups(...d.workgroups);
  backend.dispatchCountInPass++;
  counters.dispatches++;
  if (backend.dispatchCountInPass >= batchSize()) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  return outputs;
}

/** A uniform block from 32-bit fields, padded to 16 bytes (`u32`/`i32` as integers, `f32` as floats). */
export function uniformBlock(fields: { u32?: number[]; i32?: number[]; f32?: number[] }[]): ArrayBuffer {
  const words = fields.reduce((n, f) => n + (f.u32?.length ?? 0) + (f.i32?.length ?? 0) + (f.f32?.length ?? 0), 0);
  const buf = new ArrayBuffer(Math.ceil(Math.max(words, 1) / 4) * 16);
  const u = new Uint32Array(buf);
  const i = new Int32Array(buf);
  const f = new Float32Array(buf);
  let k = 0;
  for (const field of fields) {
    for (const v of field.u32 ?? []) u[k++] = v;
    for (const v of field.i32 ?? []) i[k++] = v;
    for (const v of field.f32 ?? []) f[k++] = v;
  }
  return buf;
}

/** ⌈a / b⌉ (workgroups for a elements, b per workgroup). */
export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

const patched = new WeakSet<object>();
/** Most distinct scalar values kept on the GPU (a step uses a fixed few dozen: 1, 0.5, ε, the batch size…). */
const MAX_CACHED_SCALARS = 4096;

/**
 * Uploads without breaking the compute pass, and each JavaScript number once.
 *
 * tfjs uploads a tensor's values through a mapped buffer, or a staging buffer plus a copy command that ends the
 * current compute pass; every `tf.mul(x, 0.5)` makes a new scalar tensor and uploads it so (the ~0.5 ms per
 * scalar op measured on an H200). Here values go through `queue.writeBuffer` into a pooled buffer (ordered before
 * the command buffer that reads them; a pooled buffer is never referenced by the pending command buffer, tfjs
 * frees those only after submitting), and a rank-0 tensor's value is written once into a buffer of its own that
 * every later scalar of the same dtype and value shares (marked `external`, so tfjs never frees or reuses it; no
 * kernel writes into its inputs). Counts what crosses for bench:gpu. Idempotent.
 */
export function installQueueUploads(backend: WebgpuBackend): void {
  if (patched.has(backend)) return;
  patched.add(backend);
  const scalars = new Map<string, GpuBuffer>();
  const usage = USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST;
  const typed = (data: TensorData) =>
    data.dtype === 'float32' ? (data.values instanceof Float32Array ? data.values : Float32Array.from(data.values!)) : Int32Array.from(data.values!);
  backend.uploadToGPU = function (this: WebgpuBackend, dataId: object) {
    const data = this.tensorMap.get(dataId) as TensorData & { external?: boolean };
    if (data.resource != null) return;
    const n = data.shape.reduce((a, b) => a * b, 1);
    if (data.values && data.shape.length === 0) {
      const values = typed(data);
      const key = `${data.dtype}:${new Uint32Array(values.buffer, values.byteOffset, 1)[0]}`;
      let buffer = scalars.get(key);
      if (!buffer && scalars.size < MAX_CACHED_SCALARS) {
        buffer = (this.device as unknown as { createBuffer(d: object): GpuBuffer }).createBuffer({ size: 4, usage });
        this.queue.writeBuffer(buffer, 0, values);
        scalars.set(key, buffer);
        counters.uploads++;
        counters.scalarUploads++;
      }
      if (buffer) {
        data.resource = buffer;
        data.external = true;
        data.values = null;
        return;
      }
    }
    const buffer = this.bufferManager.acquireBuffer(Math.max(4, n * 4), usage, false); // 4 bytes a value on the GPU
    if (data.values) {
      this.queue.writeBuffer(buffer, 0, typed(data));
      counters.uploads++;
      if (n === 1) counters.scalarUploads++;
      data.values = null;
    }
    data.resource = buffer;
  };
}

/** Counts tfjs's own uploads (when `installQueueUploads` is left out, to compare: CV_WEBGPU_SKIP=uploads). */
export function installUploadCounter(backend: WebgpuBackend): void {
  if (patched.has(backend)) return;
  patched.add(backend);
  const upload = backend.uploadToGPU.bind(backend);
  backend.uploadToGPU = (dataId: object) => {
    const data = backend.tensorMap.get(dataId);
    if (data.resource == null && data.values) {
      const n = data.shape.reduce((a, b) => a * b, 1);
      counters.uploads++;
      if (n === 1) counters.scalarUploads++;
    }
    upload(dataId);
  };
}
