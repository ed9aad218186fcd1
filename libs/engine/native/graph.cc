// Inference graphs run whole: a folded model's convolutions, additions, concatenations, upsamplings, max
// pools and transposed convolutions as one native call per batch. Between layers the activations stay in
// buffers owned here, in bf16 where the graph is bf16 (no f32 round trip per layer, no per-layer call from
// JavaScript); only the graph's input (f32, read in place from the wasm heap) and its outputs (f32, written
// in place into the heap) cross over.
//
// graphCreate(spec: Int32Array, weights: Float32Array) → id. The spec (written by infer/native-graph.ts):
//   nValues, nOps, input, nOutputs, outputs…,
//   then per value: height, width, channels (per image, NHWC), dtype (0 f32, 1 bf16), alias (-1, or the
//   value whose memory it shares: a reshape),
//   then per op: code, count, count parameters (see the Op codes below).
// graphRun(id, heap, batch, io: Int32Array [input offset, output offsets…] in floats) → false where oneDNN
// has no implementation for a layer (the caller runs the layers one by one instead).
// graphRelease(id).
#include "addon.hpp"

#include <array>

namespace cv {

void toBf16(const float *x, uint16_t *y, int64_t n);  // conv.cc

namespace {

enum Code { kConv = 1, kAdd = 2, kConcat = 3, kUpsample = 4, kMaxPool = 5, kDeconv = 6 };

struct Value {
  int h, w, c, dtype, alias;
};

struct Op {
  int code;
  std::vector<int> p;
};

// One op, planned for a batch size: its primitive and the memories it owns (converted filters, a bf16 copy
// of an f32 input).
struct Step {
  const Op *op = nullptr;
  primitive prim;
  memory::desc src, src1, dst;
  std::vector<memory::desc> srcs;  // concat
  memory wei, bias;
  std::vector<uint8_t> weiBuffer;
  bool halveSrc = false;  // the input is f32, the primitive reads bf16: convert first
  std::vector<uint16_t> halfBuffer;
};

// The graph planned for one batch size (and thread count).
struct Plan {
  int threads = -1;
  std::vector<Step> steps;
  std::vector<std::vector<uint8_t>> store;  // per value that owns memory and is neither input nor output
};

struct Graph {
  std::vector<Value> values;
  std::vector<Op> ops;
  int input = 0;
  std::vector<int> outputs;
  std::vector<float> weights;
  std::map<int, Plan> plans;  // by batch size (a validation set's last, smaller batch keeps its own)
};

int root(const Graph &g, int v) {
  while (g.values[v].alias >= 0) v = g.values[v].alias;
  return v;
}

dt typeOf(const Value &v) { return v.dtype == 1 ? dt::bf16 : dt::f32; }
size_t elemSize(const Value &v) { return v.dtype == 1 ? 2 : 4; }

memory::desc mdOf(const Graph &g, int v, memory::dim n) {
  const Value &x = g.values[v];
  return memory::desc({n, x.c, x.h, x.w}, typeOf(x), tag::nhwc);
}

std::map<int, std::unique_ptr<Graph>> &graphs() {
  thread_local std::map<int, std::unique_ptr<Graph>> m;
  return m;
}

bool parse(const int32_t *s, size_t n, Graph &g, std::string &why) {
  size_t i = 0;
  auto next = [&](int &out) {
    if (i >= n) return false;
    out = s[i++];
    return true;
  };
  int nValues, nOps, nOut;
  if (!next(nValues) || !next(nOps) || !next(g.input) || !next(nOut) || nValues <= 0 || nOps < 0 || nOut <= 0) return why = "header", false;
  g.outputs.resize(nOut);
  for (auto &o : g.outputs)
    if (!next(o) || o < 0 || o >= nValues) return why = "outputs", false;
  g.values.resize(nValues);
  for (int v = 0; v < nValues; v++) {
    Value &x = g.values[v];
    if (!next(x.h) || !next(x.w) || !next(x.c) || !next(x.dtype) || !next(x.alias)) return why = "values", false;
    if (x.h <= 0 || x.w <= 0 || x.c <= 0 || (x.dtype != 0 && x.dtype != 1) || x.alias >= v) return why = "value " + std::to_string(v), false;
  }
  if (g.input < 0 || g.input >= nValues || g.values[g.input].dtype != 0 || g.values[g.input].alias >= 0) return why = "input", false;
  for (int o : g.outputs)
    if (g.values[o].dtype != 0) return why = "outputs must be f32", false;
  g.ops.resize(nOps);
  for (auto &op : g.ops) {
    int count;
    if (!next(op.code) || !next(count) || count < 0 || i + count > n) return why = "ops", false;
    op.p.assign(s + i, s + i + count);
    i += count;
    static const std::map<int, size_t> arity = {{kConv, 15}, {kDeconv, 15}, {kAdd, 3}, {kUpsample, 4}, {kMaxPool, 10}};
    auto a = arity.find(op.code);
    if (op.code == kConcat ? (count < 4 || static_cast<size_t>(count) != 3 + static_cast<size_t>(op.p[2])) : (a == arity.end() || a->second != static_cast<size_t>(count)))
      return why = "op " + std::to_string(op.code), false;
    const size_t nv = op.code == kConcat ? op.p.size() : (op.code == kAdd ? 3 : 2);
    for (size_t k = 0; k < nv; k++) {
      if (op.code == kConcat && (k == 0 || k == 2)) continue;  // axis, count
      if (op.p[k] < 0 || op.p[k] >= nValues) return why = "op value", false;
    }
  }
  return true;
}

// Plans every op for batch n (and the current thread count): primitives, converted filters, buffers.
Plan &plan(Graph &g, int n) {
  Plan &pl = g.plans[n];
  if (pl.threads == omp_get_max_threads()) return pl;
  pl.steps.clear();
  pl.store.assign(g.values.size(), {});
  std::vector<bool> external(g.values.size(), false);
  external[g.input] = true;
  for (int o : g.outputs) external[root(g, o)] = true;
  for (size_t v = 0; v < g.values.size(); v++) {
    if (g.values[v].alias >= 0 || external[v]) continue;
    const Value &x = g.values[v];
    pl.store[v].resize(static_cast<size_t>(n) * x.h * x.w * x.c * elemSize(x));
  }
  for (const Op &op : g.ops) {
    Step s;
    s.op = &op;
    const auto &p = op.p;
    if (op.code == kConv || op.code == kDeconv) {
      const int in = p[0], out = p[1];
      const Value &xi = g.values[in], &xo = g.values[out];
      const memory::dim kh = p[2], kw = p[3];
      const memory::dims strides = {p[4], p[5]}, dil = {p[6] - 1, p[7] - 1}, padL = {p[8], p[9]}, padR = {p[10], p[11]};
      const int act = p[12], wOff = p[13], bOff = p[14];
      const bool half = xo.dtype == 1 || xi.dtype == 1;  // bf16 graph: the convolution reads bf16
      const dt opType = half ? dt::bf16 : dt::f32;
      s.halveSrc = half && xi.dtype == 0;
      s.src = memory::desc({n, xi.c, xi.h, xi.w}, opType, tag::nhwc);
      s.dst = mdOf(g, out, n);
      const memory::desc weiAny({xo.c, xi.c, kh, kw}, opType, tag::any);
      const memory::desc biasMd({xo.c}, dt::f32, tag::a);
      const memory::desc weiUser({xo.c, xi.c, kh, kw}, dt::f32, tag::hwio);
      primitive_attr attr = activationAttr(act, 0.f);
      attr.set_scratchpad_mode(scratchpad_mode::library);  // the graph's primitives keep their own
      memory::desc weiInternal;
      if (op.code == kConv) {
        auto d = bOff >= 0 ? convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, s.src, weiAny, biasMd, s.dst, strides, dil, padL, padR)
                           : convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, s.src, weiAny, s.dst, strides, dil, padL, padR);
        convolution_forward::primitive_desc pd(d, attr, cpu());
        s.prim = convolution_forward(pd);
        weiInternal = pd.weights_desc();
      } else {
        auto d = bOff >= 0 ? deconvolution_forward::desc(prop_kind::forward_inference, algorithm::deconvolution_direct, s.src, weiAny, biasMd, s.dst, strides, dil, padL, padR)
                           : deconvolution_forward::desc(prop_kind::forward_inference, algorithm::deconvolution_direct, s.src, weiAny, s.dst, strides, dil, padL, padR);
        deconvolution_forward::primitive_desc pd(d, attr, cpu());
        s.prim = deconvolution_forward(pd);
        weiInternal = pd.weights_desc();
      }
      s.weiBuffer.resize(weiInternal.get_size());
      s.wei = memory(weiInternal, cpu(), s.weiBuffer.data());
      memory user(weiUser, cpu(), g.weights.data() + wOff);
      reorder(user, s.wei).execute(strm(), user, s.wei);
      strm().wait();
      if (bOff >= 0) s.bias = memory(biasMd, cpu(), g.weights.data() + bOff);
      if (s.halveSrc) s.halfBuffer.resize(static_cast<size_t>(n) * xi.h * xi.w * xi.c);
    } else if (op.code == kAdd) {
      s.src = mdOf(g, p[0], n);
      s.src1 = mdOf(g, p[1], n);
      s.dst = mdOf(g, p[2], n);
      s.prim = binary(binary::primitive_desc(binary::desc(algorithm::binary_add, s.src, s.src1, s.dst), cpu()));
    } else if (op.code == kConcat) {
      for (int k = 0; k < p[2]; k++) s.srcs.push_back(mdOf(g, p[3 + k], n));
      s.dst = mdOf(g, p[1], n);
      s.prim = concat(concat::primitive_desc(s.dst, p[0], s.srcs, cpu()));
    } else if (op.code == kMaxPool) {
      s.src = mdOf(g, p[0], n);
      s.dst = mdOf(g, p[1], n);
      auto d = pooling_forward::desc(prop_kind::forward_inference, algorithm::pooling_max, s.src, s.dst, {p[4], p[5]}, {p[2], p[3]}, {p[6], p[7]}, {p[8], p[9]});
      s.prim = pooling_forward(pooling_forward::primitive_desc(d, cpu()));
    }
    pl.steps.push_back(std::move(s));
  }
  pl.threads = omp_get_max_threads();
  return pl;
}

// Nearest-neighbour upsampling by whole factors (Keras UpSampling2D: out[y][x] = in[y / fh][x / fw]).
void upsample(const uint8_t *x, uint8_t *y, int n, const Value &in, int fh, int fw, size_t elem) {
  const size_t pixel = static_cast<size_t>(in.c) * elem, ip = pixel, op = pixel;
  const int oh = in.h * fh, ow = in.w * fw;
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < static_cast<int64_t>(n) * oh; row++) {
    const int64_t b = row / oh, oy = row % oh;
    const uint8_t *src = x + ((b * in.h + oy / fh) * in.w) * ip;
    uint8_t *dst = y + row * ow * op;
    for (int ox = 0; ox < ow; ox++) std::memcpy(dst + ox * op, src + (ox / fw) * ip, pixel);
  }
}

size_t floatsPerImage(const Value &v) { return static_cast<size_t>(v.h) * v.w * v.c; }

// Images [first, first + n) of the batch through every layer.
void runChunk(Graph &g, float *heap, int first, int n, const int32_t *io) {
  Plan &pl = plan(g, n);
  std::vector<uint8_t *> ptr(g.values.size(), nullptr);
  ptr[g.input] = reinterpret_cast<uint8_t *>(heap + io[0] + first * floatsPerImage(g.values[g.input]));
  for (size_t k = 0; k < g.outputs.size(); k++)
    ptr[root(g, g.outputs[k])] = reinterpret_cast<uint8_t *>(heap + io[1 + k] + first * floatsPerImage(g.values[g.outputs[k]]));
  for (size_t v = 0; v < g.values.size(); v++)
    if (g.values[v].alias < 0 && !ptr[v]) ptr[v] = pl.store[v].data();
  for (size_t v = 0; v < g.values.size(); v++)
    if (g.values[v].alias >= 0) ptr[v] = ptr[root(g, static_cast<int>(v))];
  for (Step &s : pl.steps) {
    const auto &p = s.op->p;
    switch (s.op->code) {
      case kConv:
      case kDeconv: {
        void *src = ptr[p[0]];
        if (s.halveSrc) {
          toBf16(reinterpret_cast<const float *>(src), s.halfBuffer.data(), static_cast<int64_t>(s.halfBuffer.size()));
          src = s.halfBuffer.data();
        }
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_SRC, memory(s.src, cpu(), src)}, {DNNL_ARG_WEIGHTS, s.wei}, {DNNL_ARG_DST, memory(s.dst, cpu(), ptr[p[1]])}};
        if (p[14] >= 0) args.emplace(DNNL_ARG_BIAS, s.bias);
        s.prim.execute(strm(), args);
        break;
      }
      case kAdd:
        s.prim.execute(strm(), {{DNNL_ARG_SRC_0, memory(s.src, cpu(), ptr[p[0]])},
                                {DNNL_ARG_SRC_1, memory(s.src1, cpu(), ptr[p[1]])},
                                {DNNL_ARG_DST, memory(s.dst, cpu(), ptr[p[2]])}});
        break;
      case kConcat: {
        std::unordered_map<int, memory> args = {{DNNL_ARG_DST, memory(s.dst, cpu(), ptr[p[1]])}};
        for (int k = 0; k < p[2]; k++) args.emplace(DNNL_ARG_MULTIPLE_SRC + k, memory(s.srcs[k], cpu(), ptr[p[3 + k]]));
        s.prim.execute(strm(), args);
        break;
      }
      case kUpsample:
        strm().wait();
        upsample(ptr[p[0]], ptr[p[1]], n, g.values[p[0]], p[2], p[3], elemSize(g.values[p[0]]));
        break;
      case kMaxPool:
        s.prim.execute(strm(), {{DNNL_ARG_SRC, memory(s.src, cpu(), ptr[p[0]])}, {DNNL_ARG_DST, memory(s.dst, cpu(), ptr[p[1]])}});
        break;
    }
  }
  strm().wait();
}

// The whole batch through every layer. (Running it in chunks of 8 or 16 images, so that a chunk's activations
// stay in cache from layer to layer, measured no faster on a 2-core machine with 2 MiB of L2 per core.)
void run(Graph &g, float *heap, int n, const int32_t *io) {
  const SignalGuard guard;
  runChunk(g, heap, 0, n, io);
}

}  // namespace

napi_value GraphCreate(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_typedarray_type st, wt;
  size_t sn = 0, wn = 0;
  void *sd = nullptr, *wd = nullptr;
  napi_value ab;
  size_t off;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2 ||
      napi_get_typedarray_info(env, argv[0], &st, &sn, &sd, &ab, &off) != napi_ok || st != napi_int32_array ||
      napi_get_typedarray_info(env, argv[1], &wt, &wn, &wd, &ab, &off) != napi_ok || wt != napi_float32_array) {
    napi_throw_type_error(env, nullptr, "graphCreate(spec: Int32Array, weights: Float32Array) expected");
    return nullptr;
  }
  auto g = std::make_unique<Graph>();
  std::string why;
  if (!parse(static_cast<const int32_t *>(sd), sn, *g, why)) {
    napi_throw_type_error(env, nullptr, ("graphCreate: malformed spec (" + why + ")").c_str());
    return nullptr;
  }
  const float *w = static_cast<const float *>(wd);
  g->weights.assign(w, w + wn);
  for (const Op &op : g->ops) {
    if ((op.code == kConv || op.code == kDeconv) && (op.p[13] < 0 || op.p[13] >= static_cast<int>(wn) || op.p[14] >= static_cast<int>(wn))) {
      napi_throw_type_error(env, nullptr, "graphCreate: a filter offset is outside the weights");
      return nullptr;
    }
  }
  static int nextId = 1;
  const int id = nextId++;
  graphs().emplace(id, std::move(g));
  napi_value r;
  napi_create_int32(env, id, &r);
  return r;
}

napi_value GraphRun(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t id = 0, n = 0;
  void *heap = nullptr;
  size_t heapLen = 0;
  napi_typedarray_type t;
  size_t ion = 0;
  void *iod = nullptr;
  napi_value ab;
  size_t off;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 4 || napi_get_value_int32(env, argv[0], &id) != napi_ok ||
      napi_get_arraybuffer_info(env, argv[1], &heap, &heapLen) != napi_ok || napi_get_value_int32(env, argv[2], &n) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &t, &ion, &iod, &ab, &off) != napi_ok || t != napi_int32_array || n <= 0) {
    napi_throw_type_error(env, nullptr, "graphRun(id, heap, batch > 0, io: Int32Array) expected");
    return nullptr;
  }
  auto it = graphs().find(id);
  if (it == graphs().end()) {
    napi_throw_error(env, nullptr, "graphRun: no such graph on this thread (released?)");
    return nullptr;
  }
  Graph &g = *it->second;
  const int32_t *io = static_cast<const int32_t *>(iod);
  if (ion != 1 + g.outputs.size()) {
    napi_throw_type_error(env, nullptr, "graphRun: io must hold the input offset and one offset per output");
    return nullptr;
  }
  // Bounds: the input and outputs must lie inside the heap.
  auto fits = [&](int32_t at, int v) {
    const Value &x = g.values[v];
    return at >= 0 && (static_cast<size_t>(at) + static_cast<size_t>(n) * x.h * x.w * x.c) * sizeof(float) <= heapLen;
  };
  bool ok = fits(io[0], g.input);
  for (size_t k = 0; k < g.outputs.size(); k++) ok = ok && fits(io[1 + k], g.outputs[k]);
  if (!ok) {
    napi_throw_range_error(env, nullptr, "graphRun: an input or output lies outside the heap");
    return nullptr;
  }
  try {
    run(g, static_cast<float *>(heap), n, io);
  } catch (const dnnl::error &e) {
    g.plans.clear();
    if (unsupported(e)) return boolean(env, false);
    throwError(env, "graph", e);
    return nullptr;
  } catch (const std::exception &e) {
    g.plans.clear();
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
  return boolean(env, true);
}

// pixelsToUnit(heap, bytes: Uint8Array | Uint8ClampedArray, offset): heap floats [offset, offset + bytes.length) =
// bytes / 255, each the correctly rounded f32 quotient (what tfjs's RealDiv gives), from a table of the 256.
napi_value PixelsToUnit(napi_env env, napi_callback_info info) {
  static const auto table = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; v++) t[v] = static_cast<float>(v) / 255.f;
    return t;
  }();
  size_t argc = 3;
  napi_value argv[3];
  void *heap = nullptr, *bytes = nullptr;
  size_t heapLen = 0, n = 0, off = 0;
  int32_t at = -1;
  napi_typedarray_type t;
  napi_value ab;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3 || napi_get_arraybuffer_info(env, argv[0], &heap, &heapLen) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &t, &n, &bytes, &ab, &off) != napi_ok || (t != napi_uint8_array && t != napi_uint8_clamped_array) ||
      napi_get_value_int32(env, argv[2], &at) != napi_ok || at < 0) {
    napi_throw_type_error(env, nullptr, "pixelsToUnit(heap, bytes: Uint8Array, offset >= 0) expected");
    return nullptr;
  }
  if ((static_cast<size_t>(at) + n) * sizeof(float) > heapLen) {
    napi_throw_range_error(env, nullptr, "pixelsToUnit: the destination lies outside the heap");
    return nullptr;
  }
  const uint8_t *x = static_cast<const uint8_t *>(bytes);
  float *y = static_cast<float *>(heap) + at;
  const int64_t count = static_cast<int64_t>(n);
#pragma omp parallel for schedule(static) if (count >= kParallelMin)
  for (int64_t i = 0; i < count; i++) y[i] = table[x[i]];
  return boolean(env, true);
}

napi_value GraphRelease(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t id = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &id) != napi_ok) {
    napi_throw_type_error(env, nullptr, "graphRelease(id) expected");
    return nullptr;
  }
  return boolean(env, graphs().erase(id) > 0);
}

}  // namespace cv
