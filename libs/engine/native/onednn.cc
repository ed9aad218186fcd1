// Node-API addon: oneDNN kernels that compute directly on tfjs-backend-wasm's heap.
//
// Every entry takes the wasm heap (an ArrayBuffer, taken afresh by the caller at each call because the
// heap grows and older views detach), an Int32Array of shape parameters and element offsets (float
// index = byte offset / 4) of the tensors in that heap, and returns true when it ran, false when oneDNN
// has no implementation for the case (the caller then uses the wasm kernel). Tensors are NHWC (data)
// and HWIO / HWIGO (filters), the layouts tfjs uses, so no reorder happens anywhere.
//
// Primitives are created once per distinct parameter vector and cached: creating one costs far more
// than running a small one.
#include <node_api.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <pthread.h>
#include <signal.h>

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

// Per JS thread (data-parallel replicas are worker threads of one process, each calling from its own
// thread): the stream, the primitive caches and OpenMP's thread count are all thread-local.
engine &cpu() {
  static engine e(engine::kind::cpu, 0);  // engines are thread-safe
  return e;
}
stream &strm() {
  thread_local stream s(cpu());
  return s;
}

// ---- Node-API helpers -------------------------------------------------------------------------------

struct Args {
  float *heap = nullptr;
  const int32_t *p = nullptr;
  size_t np = 0;
  float alpha = 0.f;
};

bool readArgs(napi_env env, napi_callback_info info, Args &a) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 2) return false;
  void *data = nullptr;
  size_t len = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) return false;
  a.heap = static_cast<float *>(data);
  napi_typedarray_type type;
  size_t n = 0;
  void *pdata = nullptr;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, argv[1], &type, &n, &pdata, &ab, &off) != napi_ok) return false;
  if (type != napi_int32_array) return false;
  a.p = static_cast<const int32_t *>(pdata);
  a.np = n;
  if (argc > 2) {
    double alpha = 0;
    if (napi_get_value_double(env, argv[2], &alpha) == napi_ok) a.alpha = static_cast<float>(alpha);
  }
  return true;
}

// Reads the arguments and checks the parameter count; on a mismatch throws `usage` as a TypeError.
bool readArgsOf(napi_env env, napi_callback_info info, Args &a, size_t count, const char *usage) {
  if (readArgs(env, info, a) && a.np == count) return true;
  napi_throw_type_error(env, nullptr, usage);
  return false;
}

napi_value boolean(napi_env env, bool v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}

void throwError(napi_env env, const char *what, const dnnl::error &e) {
  std::string msg = std::string("oneDNN ") + what + ": " + e.what();
  napi_throw_error(env, nullptr, msg.c_str());
}

// A primitive is planned for the thread count in effect when it is created (work split, scratchpad
// size), so the count is part of the key.
std::string keyOf(char kind, const int32_t *p, size_t n, float alpha) {
  std::string k(1, kind);
  const int threads = omp_get_max_threads();
  k.append(reinterpret_cast<const char *>(&threads), sizeof(int));
  k.append(reinterpret_cast<const char *>(p), n * sizeof(int32_t));
  k.append(reinterpret_cast<const char *>(&alpha), sizeof(float));
  return k;
}

// No implementation for this case, or a geometry oneDNN does not accept: the caller falls back to wasm.
bool unsupported(const dnnl::error &e) { return e.status == dnnl_unimplemented || e.status == dnnl_invalid_arguments; }

memory::dim dimOf(int32_t v) { return static_cast<memory::dim>(v); }

// Fused activations (tfjs's FusedConv2D / _FusedMatMul names, numbered by the caller).
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kSigmoid = 4, kLeakyRelu = 5 };

// Scratchpads are the caller's (one growing buffer per thread, shared by all primitives) rather than
// one per cached primitive.
primitive_attr userScratchpad() {
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  return attr;
}

primitive_attr activationAttr(int act, float alpha) {
  primitive_attr attr = userScratchpad();
  if (act == kLinear) return attr;
  post_ops ops;
  switch (act) {
    case kRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: ops.append_eltwise(1.f, algorithm::eltwise_clip_v2, 0.f, 6.f); break;
    case kElu: ops.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: ops.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    case kLeakyRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    default: break;
  }
  attr.set_post_ops(ops);
  return attr;
}

// ---- Convolution ------------------------------------------------------------------------------------
// p: N IH IW IC OH OW OC KH KW SH SW DH DW padT padL padB padR groups act | off: x w bias y
// (bias = -1 when absent). Modes: forward (y = act(x * w + bias)), backward-data (x ← dy = y),
// backward-weights (w ← dW, bias ← dbias when given; from x and dy = y).
constexpr size_t kConvParams = 19;
constexpr size_t kConvArgs = kConvParams + 4;

struct ConvGeom {
  memory::desc src, wei, weiAny, bias, dst;  // weiAny: the filter layout left to oneDNN
  memory::dims strides, dilates, padL, padR;
};

ConvGeom convGeom(const int32_t *p) {
  const memory::dim n = p[0], ih = p[1], iw = p[2], ic = p[3], oh = p[4], ow = p[5], oc = p[6];
  const memory::dim kh = p[7], kw = p[8], g = p[17];
  ConvGeom c;
  c.src = memory::desc({n, ic, ih, iw}, dt::f32, tag::nhwc);
  c.dst = memory::desc({n, oc, oh, ow}, dt::f32, tag::nhwc);
  c.wei = g == 1 ? memory::desc({oc, ic, kh, kw}, dt::f32, tag::hwio)
                 : memory::desc({g, oc / g, ic / g, kh, kw}, dt::f32, tag::hwigo);
  c.weiAny = memory::desc(c.wei.dims(), dt::f32, tag::any);
  c.bias = memory::desc({oc}, dt::f32, tag::a);
  c.strides = {dimOf(p[9]), dimOf(p[10])};
  c.dilates = {dimOf(p[11] - 1), dimOf(p[12] - 1)};  // oneDNN counts dilation from 0
  c.padL = {dimOf(p[13]), dimOf(p[14])};
  c.padR = {dimOf(p[15]), dimOf(p[16])};
  return c;
}

convolution_forward::primitive_desc convForwardPd(const ConvGeom &c, bool bias, const primitive_attr &attr) {
  auto d = bias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, c.src, c.weiAny,
                                            c.bias, c.dst, c.strides, c.dilates, c.padL, c.padR)
                : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, c.src, c.weiAny,
                                            c.dst, c.strides, c.dilates, c.padL, c.padR);
  return convolution_forward::primitive_desc(d, attr, cpu());
}

struct Cached {
  primitive prim;
  memory::desc a, b, c, d;  // the mds of the arguments, in the entry's order
  memory::desc workspace;   // pooling only
  size_t scratchBytes = 0;
  memory::desc weiInternal;      // convolutions: the filter layout the primitive computes in
  primitive weiReorder;          // HWIO → weiInternal (or back, for the filter gradient); empty when equal
  std::vector<float> weiBuffer;  // the filter in weiInternal
};

// Blocks SIGPROF on the calling thread while a primitive runs. A V8 profiler sample (--cpu-prof) landing
// inside oneDNN's parallel jit kernels corrupted the process heap (measured: aborts within seconds under
// --cpu-prof, none in long runs without it); the sample is delivered when the primitive returns.
struct SignalGuard {
  sigset_t previous;
  SignalGuard() {
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &block, &previous);
  }
  ~SignalGuard() { pthread_sigmask(SIG_SETMASK, &previous, nullptr); }
};

// Runs a cached primitive with the thread's scratchpad (grown to fit; a canary after it catches a
// primitive that writes past the size it asked for).
void execute(Cached *c, std::unordered_map<int, memory> &args) {
  const SignalGuard guard;
  thread_local std::vector<uint8_t> scratch;
  constexpr size_t kCanary = 64;
  if (scratch.size() < c->scratchBytes + kCanary) scratch.resize(c->scratchBytes + kCanary);
  std::memset(scratch.data() + c->scratchBytes, 0xA5, kCanary);
  if (c->scratchBytes) {
    auto md = memory::desc({static_cast<memory::dim>(c->scratchBytes)}, dt::u8, tag::a);
    args.emplace(DNNL_ARG_SCRATCHPAD, memory(md, cpu(), scratch.data()));
  }
  c->prim.execute(strm(), args);
  strm().wait();
  for (size_t i = c->scratchBytes; i < c->scratchBytes + kCanary; i++) {
    if (scratch[i] != 0xA5) throw std::runtime_error("oneDNN wrote past its scratchpad");
  }
}

std::map<std::string, std::unique_ptr<Cached>> &cache() {
  thread_local std::map<std::string, std::unique_ptr<Cached>> c;
  return c;
}

Cached *convPrimitive(char mode, const int32_t *p, float alpha) {
  const bool withBias = p[kConvParams + 2] >= 0;
  const std::string key = keyOf(mode, p, kConvParams, alpha) + (withBias ? "b" : "-");  // shapes, not offsets
  auto &c = cache();
  auto it = c.find(key);
  if (it != c.end()) return it->second.get();
  const ConvGeom g = convGeom(p);
  const bool bias = p[kConvParams + 2] >= 0;
  auto entry = std::make_unique<Cached>();
  if (mode == 'f') {
    auto pd = convForwardPd(g, bias, activationAttr(p[18], alpha));
    entry->prim = convolution_forward(pd);
    entry->scratchBytes = pd.scratchpad_desc().get_size();
    entry->weiInternal = pd.weights_desc();
  } else if (mode == 'd') {
    auto hint = convForwardPd(g, false, userScratchpad());
    auto d = convolution_backward_data::desc(algorithm::convolution_direct, g.src, g.weiAny, g.dst, g.strides,
                                             g.dilates, g.padL, g.padR);
    auto pd = convolution_backward_data::primitive_desc(d, userScratchpad(), cpu(), hint);
    entry->prim = convolution_backward_data(pd);
    entry->scratchBytes = pd.scratchpad_desc().get_size();
    entry->weiInternal = pd.weights_desc();
  } else {
    auto hint = convForwardPd(g, bias, userScratchpad());
    auto d = bias ? convolution_backward_weights::desc(algorithm::convolution_direct, g.src, g.weiAny, g.bias, g.dst,
                                                       g.strides, g.dilates, g.padL, g.padR)
                  : convolution_backward_weights::desc(algorithm::convolution_direct, g.src, g.weiAny, g.dst, g.strides,
                                                       g.dilates, g.padL, g.padR);
    auto pd = convolution_backward_weights::primitive_desc(d, userScratchpad(), cpu(), hint);
    entry->prim = convolution_backward_weights(pd);
    entry->scratchBytes = pd.scratchpad_desc().get_size();
    entry->weiInternal = pd.diff_weights_desc();
  }
  // oneDNN's fastest convolutions want a blocked filter layout: convert tfjs's HWIO filter into it before
  // the primitive (forward, input gradient), or the filter gradient out of it afterwards. Filters are
  // small next to activations, so this costs little and lets the activations stay NHWC.
  if (entry->weiInternal != g.wei) {
    entry->weiBuffer.resize(entry->weiInternal.get_size() / sizeof(float));
    entry->weiReorder = mode == 'w' ? reorder(memory(entry->weiInternal, cpu(), nullptr), memory(g.wei, cpu(), nullptr))
                                    : reorder(memory(g.wei, cpu(), nullptr), memory(entry->weiInternal, cpu(), nullptr));
  }
  entry->a = g.src;
  entry->b = g.wei;
  entry->c = g.bias;
  entry->d = g.dst;
  Cached *raw = entry.get();
  c.emplace(key, std::move(entry));
  return raw;
}

napi_value convEntry(napi_env env, napi_callback_info info, char mode) {
  Args a;
  if (!readArgsOf(env, info, a, kConvArgs, "conv(heap, Int32Array[23], alpha?) expected")) return nullptr;
  const int32_t *off = a.p + kConvParams;
  try {
    Cached *c = convPrimitive(mode, a.p, a.alpha);
    memory x(c->a, cpu(), a.heap + off[0]);
    memory user(c->b, cpu(), a.heap + off[1]);
    const bool reordered = c->weiBuffer.size() > 0;
    memory w = reordered ? memory(c->weiInternal, cpu(), c->weiBuffer.data()) : user;
    memory y(c->d, cpu(), a.heap + off[3]);
    const SignalGuard guard;
    if (reordered && mode != 'w') c->weiReorder.execute(strm(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, w}});
    std::unordered_map<int, memory> args;
    if (mode == 'f') {
      args = {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}};
      if (off[2] >= 0) args.emplace(DNNL_ARG_BIAS, memory(c->c, cpu(), a.heap + off[2]));
    } else if (mode == 'd') {
      args = {{DNNL_ARG_DIFF_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_DST, y}};
    } else {
      args = {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_WEIGHTS, w}, {DNNL_ARG_DIFF_DST, y}};
      if (off[2] >= 0) args.emplace(DNNL_ARG_DIFF_BIAS, memory(c->c, cpu(), a.heap + off[2]));
    }
    execute(c, args);
    if (reordered && mode == 'w') {
      c->weiReorder.execute(strm(), {{DNNL_ARG_FROM, w}, {DNNL_ARG_TO, user}});
      strm().wait();
    }
  } catch (const dnnl::error &e) {
    if (unsupported(e)) return boolean(env, false);
    throwError(env, "convolution", e);
    return nullptr;
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
  return boolean(env, true);
}

napi_value ConvForward(napi_env env, napi_callback_info info) { return convEntry(env, info, 'f'); }
napi_value ConvBackwardData(napi_env env, napi_callback_info info) { return convEntry(env, info, 'd'); }
napi_value ConvBackwardWeights(napi_env env, napi_callback_info info) { return convEntry(env, info, 'w'); }

// ---- MatMul -----------------------------------------------------------------------------------------
// p: batchA batchB M K N transA transB act | off: a b bias c  (bias: N values, -1 when absent).
// A is [batchA, M, K] ([batchA, K, M] when transA), B is [batchB, K, N] ([batchB, N, K] when transB),
// C is [max(batchA, batchB), M, N]; a batch of 1 broadcasts.
constexpr size_t kMatMulParams = 8;
constexpr size_t kMatMulArgs = kMatMulParams + 4;

napi_value MatMul(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, kMatMulArgs, "matmul(heap, Int32Array[12], alpha?) expected")) return nullptr;
  const int32_t *p = a.p;
  const int32_t *off = a.p + kMatMulParams;
  try {
    const std::string key = keyOf('m', p, kMatMulParams, a.alpha) + (off[2] >= 0 ? "b" : "-");
    auto &cc = cache();
    auto it = cc.find(key);
    Cached *c;
    if (it == cc.end()) {
      const memory::dim ba = p[0], bb = p[1], m = p[2], k = p[3], n = p[4];
      const memory::dim b = std::max(ba, bb);
      auto am = p[5] ? memory::desc({ba, m, k}, dt::f32, memory::dims{m * k, 1, m})
                     : memory::desc({ba, m, k}, dt::f32, memory::dims{m * k, k, 1});
      auto bm = p[6] ? memory::desc({bb, k, n}, dt::f32, memory::dims{k * n, 1, k})
                     : memory::desc({bb, k, n}, dt::f32, memory::dims{k * n, n, 1});
      auto cm = memory::desc({b, m, n}, dt::f32, memory::dims{m * n, n, 1});
      auto biasm = memory::desc({1, 1, n}, dt::f32, memory::dims{n, n, 1});
      auto d = off[2] >= 0 ? matmul::desc(am, bm, biasm, cm) : matmul::desc(am, bm, cm);
      auto entry = std::make_unique<Cached>();
      auto pd = matmul::primitive_desc(d, activationAttr(p[7], a.alpha), cpu());
      entry->prim = matmul(pd);
      entry->scratchBytes = pd.scratchpad_desc().get_size();
      entry->a = am;
      entry->b = bm;
      entry->c = biasm;
      entry->d = cm;
      c = entry.get();
      cc.emplace(key, std::move(entry));
    } else {
      c = it->second.get();
    }
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, memory(c->a, cpu(), a.heap + off[0])},
        {DNNL_ARG_WEIGHTS, memory(c->b, cpu(), a.heap + off[1])},
        {DNNL_ARG_DST, memory(c->d, cpu(), a.heap + off[3])},
    };
    if (off[2] >= 0) args.emplace(DNNL_ARG_BIAS, memory(c->c, cpu(), a.heap + off[2]));
    execute(c, args);
  } catch (const dnnl::error &e) {
    if (unsupported(e)) return boolean(env, false);
    throwError(env, "matmul", e);
    return nullptr;
  } catch (const std::exception &e) {
    napi_throw_error(env, nullptr, e.what());
    return nullptr;
  }
  return boolean(env, true);
}

// ---- Pooling ----------------------------------------------------------------------------------------
// p: N IH IW C OH OW KH KW SH SW padT padL padB padR avg | off: x y (forward) or x dy dx (backward).
// Max pooling treats padding as -inf; average pooling divides by the in-bounds count (tfjs's rule).
// Backward entries need only the input's shape and dy; x is read by max pooling (to find the argmax).
constexpr size_t kPoolParams = 15;

struct PoolGeom {
  memory::desc src, dst;
  memory::dims strides, kernel, padL, padR;
  algorithm alg;
};

PoolGeom poolGeom(const int32_t *p, bool backward) {
  PoolGeom g;
  g.src = memory::desc({p[0], p[3], p[1], p[2]}, dt::f32, tag::nhwc);
  g.dst = memory::desc({p[0], p[3], p[4], p[5]}, dt::f32, tag::nhwc);
  g.kernel = {p[6], p[7]};
  g.strides = {p[8], p[9]};
  g.padL = {p[10], p[11]};
  g.padR = {p[12], p[13]};
  // tfjs's AvgPoolGrad spreads each gradient by 1 / (kh·kw), padding included, although its forward
  // pass divides by the in-bounds count: the backward primitive follows tfjs, not its own forward.
  const algorithm avg = backward ? algorithm::pooling_avg_include_padding : algorithm::pooling_avg_exclude_padding;
  g.alg = p[14] ? avg : algorithm::pooling_max;
  return g;
}

pooling_forward::primitive_desc poolForwardPd(const PoolGeom &g, prop_kind kind) {
  auto d = pooling_forward::desc(kind, g.alg, g.src, g.dst, g.strides, g.kernel, g.padL, g.padR);
  return pooling_forward::primitive_desc(d, cpu());
}

napi_value PoolForward(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, kPoolParams + 2, "poolForward(heap, Int32Array[17]) expected")) return nullptr;
  const int32_t *off = a.p + kPoolParams;
  try {
    const std::string key = keyOf('p', a.p, kPoolParams, 0.f);
    auto &cc = cache();
    auto it = cc.find(key);
    Cached *c;
    if (it == cc.end()) {
      const PoolGeom g = poolGeom(a.p, false);
      auto entry = std::make_unique<Cached>();
      entry->prim = pooling_forward(poolForwardPd(g, prop_kind::forward_inference));
      entry->a = g.src;
      entry->d = g.dst;
      c = entry.get();
      cc.emplace(key, std::move(entry));
    } else {
      c = it->second.get();
    }
    const SignalGuard guard;
    c->prim.execute(strm(), {{DNNL_ARG_SRC, memory(c->a, cpu(), a.heap + off[0])},
                             {DNNL_ARG_DST, memory(c->d, cpu(), a.heap + off[1])}});
    strm().wait();
  } catch (const dnnl::error &e) {
    if (unsupported(e)) return boolean(env, false);
    throwError(env, "pooling", e);
    return nullptr;
  }
  return boolean(env, true);
}

// Max pooling's backward pass needs the forward pass's workspace (the argmax of each window), so the
// gradient entry re-runs the forward training pass into a scratch output first.
struct PoolBackward {
  primitive fwd, bwd;
  memory::desc src, dst, ws;
  std::vector<float> y;
  std::vector<uint8_t> wsData;
};

napi_value PoolBackwardEntry(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, kPoolParams + 3, "poolBackward(heap, Int32Array[18]) expected")) return nullptr;
  thread_local std::map<std::string, std::unique_ptr<PoolBackward>> entries;
  const int32_t *off = a.p + kPoolParams;
  try {
    const std::string key = keyOf('q', a.p, kPoolParams, 0.f);
    auto it = entries.find(key);
    PoolBackward *c;
    if (it == entries.end()) {
      const PoolGeom g = poolGeom(a.p, true);
      auto fpd = poolForwardPd(g, prop_kind::forward_training);
      auto bd = pooling_backward::desc(g.alg, g.src, g.dst, g.strides, g.kernel, g.padL, g.padR);
      auto entry = std::make_unique<PoolBackward>();
      entry->fwd = pooling_forward(fpd);
      entry->bwd = pooling_backward(pooling_backward::primitive_desc(bd, cpu(), fpd));
      entry->src = g.src;
      entry->dst = g.dst;
      entry->ws = fpd.workspace_desc();
      entry->y.resize(g.dst.get_size() / sizeof(float));
      entry->wsData.resize(entry->ws.get_size());
      c = entry.get();
      entries.emplace(key, std::move(entry));
    } else {
      c = it->second.get();
    }
    const bool max = a.p[14] == 0;
    const SignalGuard guard;
    memory ws(c->ws, cpu(), c->wsData.data());
    if (max) {
      c->fwd.execute(strm(), {{DNNL_ARG_SRC, memory(c->src, cpu(), a.heap + off[0])},
                              {DNNL_ARG_DST, memory(c->dst, cpu(), c->y.data())},
                              {DNNL_ARG_WORKSPACE, ws}});
      strm().wait();
      // A window holding only -inf has no maximum in tfjs's sense and routes no gradient; oneDNN would
      // route it to the window's first element (its running maximum starts at the lowest float). Such windows are rare: leave them to the wasm kernel.
      for (float v : c->y) {
        if (!(v > std::numeric_limits<float>::lowest())) return boolean(env, false);  // also NaN
      }
    }
    std::unordered_map<int, memory> args = {{DNNL_ARG_DIFF_DST, memory(c->dst, cpu(), a.heap + off[1])},
                                            {DNNL_ARG_DIFF_SRC, memory(c->src, cpu(), a.heap + off[2])}};
    if (max) args.emplace(DNNL_ARG_WORKSPACE, ws);
    c->bwd.execute(strm(), args);
    strm().wait();
  } catch (const dnnl::error &e) {
    if (unsupported(e)) return boolean(env, false);
    throwError(env, "pooling backward", e);
    return nullptr;
  }
  return boolean(env, true);
}

// ---- Reduction --------------------------------------------------------------------------------------
// p: A R B mean | off: x y. x viewed as [A, R, B] is reduced over R into y [A, B] (sum, or mean).
// Written here rather than with oneDNN's reduction primitive, which measured 10x slower for the
// [N·H·W, C] → [C] shape of bias and BatchNorm gradients. Sums accumulate in double; with more rows
// than outputs the rows are split into one chunk per thread and the chunks added in order, so the
// result depends on the thread count only, never on scheduling.
constexpr size_t kReduceParams = 4;

void reduceRows(const float *x, float *y, int64_t na, int64_t nr, int64_t nb, bool mean) {
  const double scale = mean ? 1.0 / static_cast<double>(nr) : 1.0;
  const int64_t total = na * nr * nb;
  const int threads = omp_get_max_threads();
  if (na >= threads || total < (1 << 15)) {
#pragma omp parallel for schedule(static) if (total >= (1 << 15))
    for (int64_t a = 0; a < na; a++) {
      std::vector<double> acc(nb, 0.0);
      const float *xa = x + a * nr * nb;
      for (int64_t r = 0; r < nr; r++) {
        const float *row = xa + r * nb;
        for (int64_t b = 0; b < nb; b++) acc[b] += row[b];
      }
      for (int64_t b = 0; b < nb; b++) y[a * nb + b] = static_cast<float>(acc[b] * scale);
    }
    return;
  }
  const int64_t chunks = threads;
  std::vector<double> partial(chunks * na * nb, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < chunks; t++) {
    const int64_t r0 = nr * t / chunks, r1 = nr * (t + 1) / chunks;
    double *acc = partial.data() + t * na * nb;
    for (int64_t a = 0; a < na; a++) {
      for (int64_t r = r0; r < r1; r++) {
        const float *row = x + (a * nr + r) * nb;
        double *out = acc + a * nb;
        for (int64_t b = 0; b < nb; b++) out[b] += row[b];
      }
    }
  }
  for (int64_t i = 0; i < na * nb; i++) {
    double v = 0;
    for (int64_t t = 0; t < chunks; t++) v += partial[t * na * nb + i];
    y[i] = static_cast<float>(v * scale);
  }
}

napi_value Reduce(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, kReduceParams + 2, "reduce(heap, Int32Array[6]) expected")) return nullptr;
  const int32_t *off = a.p + kReduceParams;
  reduceRows(a.heap + off[0], a.heap + off[1], a.p[0], a.p[1], a.p[2], a.p[3] != 0);
  return boolean(env, true);
}

// ---- Elementwise, batch norm, resize gradient, concat / split -----------------------------------------
// Memory-bound loops that tfjs-backend-wasm runs on one thread with 128-bit SIMD (or in JS); here they
// run on all of the job's threads. Every output element depends on its inputs only, so results do not
// depend on the thread count.
constexpr int64_t kParallelMin = 1 << 14;

// Broadcast patterns of a binary op's operands over the output of n elements:
// 0 full (index i), 1 scalar, 2 inner (index i % m: a trailing-axes operand such as a bias),
// 3 outer (index i / m: a leading-axes operand such as a per-row scale).
inline int64_t operandIndex(int mode, int64_t i, int64_t m) {
  switch (mode) {
    case 1: return 0;
    case 2: return i % m;
    case 3: return i / m;
    default: return i;
  }
}

// e^x for the activation loops: Cody–Waite range reduction and a degree-6 polynomial (max relative error
// ~2e-7 over the float range, results saturate to 0 / inf outside it), written as plain arithmetic so the
// loops vectorise; std::exp would not.
inline float expApprox(float x) {
  x = std::min(88.3762626647949f, std::max(-87.3365447504f, x));
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.f;
  int32_t bits;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  std::memcpy(&bits, &p, sizeof bits);
  bits += e - (127 << 23);
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

inline float sigmoidApprox(float v) { return 1.f / (1.f + expApprox(-v)); }

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kSquaredDiff = 6 };

template <typename F>
void binaryLoop(const float *a, int ma, int64_t pa, const float *b, int mb, int64_t pb, float *y, int64_t n, F f) {
  const bool par = n >= kParallelMin;
  if (ma == 0 && mb == 0) {
#pragma omp parallel for simd schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(a[i], b[i]);
  } else if (mb == 1 && ma == 0) {  // x op scalar
    const float s = b[0];
#pragma omp parallel for simd schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(a[i], s);
  } else if (ma == 1 && mb == 0) {
    const float s = a[0];
#pragma omp parallel for simd schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(s, b[i]);
  } else if ((ma == 0 && mb == 2) || (ma == 2 && mb == 0)) {  // x op bias: rows of the operand's length
    const int64_t len = ma == 2 ? pa : pb, rows = n / len;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; r++) {
      const float *ar = ma == 2 ? a : a + r * len;
      const float *br = mb == 2 ? b : b + r * len;
      float *yr = y + r * len;
#pragma omp simd
      for (int64_t j = 0; j < len; j++) yr[j] = f(ar[j], br[j]);
    }
  } else if ((ma == 0 && mb == 3) || (ma == 3 && mb == 0)) {  // x op per-row value
    const int64_t len = ma == 3 ? pa : pb, rows = n / len;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; r++) {
      float *yr = y + r * len;
      if (ma == 3) {
        const float s = a[r];
        const float *br = b + r * len;
#pragma omp simd
        for (int64_t j = 0; j < len; j++) yr[j] = f(s, br[j]);
      } else {
        const float s = b[r];
        const float *ar = a + r * len;
#pragma omp simd
        for (int64_t j = 0; j < len; j++) yr[j] = f(ar[j], s);
      }
    }
  } else {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(a[operandIndex(ma, i, pa)], b[operandIndex(mb, i, pb)]);
  }
}

// p: op n modeA paramA modeB paramB | off: a b y
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 9, "binary(heap, Int32Array[9]) expected")) return nullptr;
  const int32_t *p = a.p;
  const float *x = a.heap + p[6], *z = a.heap + p[7];
  float *y = a.heap + p[8];
  const int64_t n = p[1];
  switch (p[0]) {
    case kAdd: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u + v; }); break;
    case kSub: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u - v; }); break;
    case kMul: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u * v; }); break;
    case kDiv: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u / v; }); break;
    case kMax: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return (u > v) | (u != u) ? u : v; }); break;
    case kMin: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return (u < v) | (u != u) ? u : v; }); break;
    case kSquaredDiff:
      binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return (u - v) * (u - v); });
      break;
    default: return boolean(env, false);
  }
  return boolean(env, true);
}

enum UnaryOp { kUnRelu = 0, kUnSigmoid = 1, kUnStep = 2, kUnSquare = 3, kUnNeg = 4, kUnSqrt = 5, kUnCopy = 6, kUnExp = 7, kUnRsqrt = 8 };

template <typename F>
void unaryLoop(const float *x, float *y, int64_t n, F f) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
}

// p: op n | off: x y. alpha: Step's value for x <= 0 (tfjs: x > 0 ? 1 : alpha; NaN stays NaN).
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 4, "unary(heap, Int32Array[4], alpha?) expected")) return nullptr;
  const float *x = a.heap + a.p[2];
  float *y = a.heap + a.p[3];
  const int64_t n = a.p[1];
  const float alpha = a.alpha;
  switch (a.p[0]) {
    case kUnRelu: unaryLoop(x, y, n, [](float v) { return v < 0.f ? 0.f : v; }); break;  // NaN passes, as tfjs
    case kUnSigmoid: unaryLoop(x, y, n, [](float v) { return sigmoidApprox(v); }); break;
    case kUnStep:  // branch-free, so it vectorises (half-negative inputs made a branchy loop 10x slower)
      unaryLoop(x, y, n, [alpha](float v) {
        const float r = alpha + (1.f - alpha) * static_cast<float>(v > 0.f);
        return v == v ? r : v;
      });
      break;
    case kUnSquare: unaryLoop(x, y, n, [](float v) { return v * v; }); break;
    case kUnNeg: unaryLoop(x, y, n, [](float v) { return -v; }); break;
    case kUnSqrt: unaryLoop(x, y, n, [](float v) { return std::sqrt(v); }); break;
    case kUnCopy: unaryLoop(x, y, n, [](float v) { return v; }); break;
    case kUnExp: unaryLoop(x, y, n, [](float v) { return std::exp(v); }); break;
    case kUnRsqrt: unaryLoop(x, y, n, [](float v) { return 1.f / std::sqrt(v); }); break;
    default: return boolean(env, false);
  }
  return boolean(env, true);
}

// y = (x - mean) / sqrt(var + eps) * scale + offset over the last axis of c channels.
// p: n c | off: x mean var offset(-1) scale(-1) y; alpha = eps.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 8, "batchNorm(heap, Int32Array[8], eps) expected")) return nullptr;
  const int64_t n = a.p[0], c = a.p[1];
  const float *x = a.heap + a.p[2], *mean = a.heap + a.p[3], *var = a.heap + a.p[4];
  const float *offset = a.p[5] >= 0 ? a.heap + a.p[5] : nullptr;
  const float *scale = a.p[6] >= 0 ? a.heap + a.p[6] : nullptr;
  float *y = a.heap + a.p[7];
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; j++) {
    // tfjs computes x·(scale·rsqrt(var+eps)) + (offset − mean·that): the same expression here.
    const float inv = 1.f / std::sqrt(var[j] + a.alpha);
    mul[j] = (scale ? scale[j] : 1.f) * inv;
    add[j] = (offset ? offset[j] : 0.f) - mean[j] * mul[j];
  }
  const int64_t rows = n / c;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * mul[j] + add[j];
  }
  return boolean(env, true);
}

// Nearest-neighbour upsampling by integer factors (fy, fx) (alignCorners and halfPixelCenters false):
// dx[n, i, j, c] = sum of dy over the fy×fx block it was copied to. p: N H W C fy fx | off: dy dx
napi_value ResizeNearestGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 8, "resizeNearestGrad(heap, Int32Array[8]) expected")) return nullptr;
  const int64_t nb = a.p[0], h = a.p[1], w = a.p[2], c = a.p[3], fy = a.p[4], fx = a.p[5];
  const float *dy = a.heap + a.p[6];
  float *dx = a.heap + a.p[7];
  const int64_t ow = w * fx;
#pragma omp parallel for schedule(static) if (nb * h * w * c >= kParallelMin)
  for (int64_t row = 0; row < nb * h; row++) {
    const int64_t n = row / h, i = row % h;
    for (int64_t j = 0; j < w; j++) {
      float *out = dx + (row * w + j) * c;
      for (int64_t q = 0; q < c; q++) out[q] = 0.f;
      for (int64_t u = 0; u < fy; u++) {
        for (int64_t v = 0; v < fx; v++) {
          const float *src = dy + (((n * h * fy) + i * fy + u) * ow + j * fx + v) * c;
#pragma omp simd
          for (int64_t q = 0; q < c; q++) out[q] += src[q];
        }
      }
    }
  }
  return boolean(env, true);
}

// Concat along an axis: each input is [outer, inner_k], the output [outer, sum inner_k].
// p: outer k inner_0..inner_{k-1} off_0..off_{k-1} offOut. Split is the same walk reversed (split=1).
napi_value ConcatSplit(napi_env env, napi_callback_info info, bool split) {
  Args a;
  if (!readArgs(env, info, a) || a.np < 3) {
    napi_throw_type_error(env, nullptr, "concat/split(heap, Int32Array) expected");
    return nullptr;
  }
  const int64_t outer = a.p[0], k = a.p[1];
  if (a.np != static_cast<size_t>(3 + 2 * k)) {
    napi_throw_type_error(env, nullptr, "concat/split: parameter count does not match the part count");
    return nullptr;
  }
  const int32_t *inner = a.p + 2, *offs = a.p + 2 + k;
  int64_t total = 0;
  for (int64_t t = 0; t < k; t++) total += inner[t];
  float *whole = a.heap + a.p[2 + 2 * k];
#pragma omp parallel for schedule(static) if (outer * total >= kParallelMin)
  for (int64_t r = 0; r < outer; r++) {
    int64_t col = 0;
    for (int64_t t = 0; t < k; t++) {
      float *part = a.heap + offs[t] + r * inner[t];
      float *row = whole + r * total + col;
      if (split) std::memcpy(part, row, inner[t] * sizeof(float));
      else std::memcpy(row, part, inner[t] * sizeof(float));
      col += inner[t];
    }
  }
  return boolean(env, true);
}
napi_value Concat(napi_env env, napi_callback_info info) { return ConcatSplit(env, info, false); }
napi_value Split(napi_env env, napi_callback_info info) { return ConcatSplit(env, info, true); }

// ---- Training-mode batch norm and swish, fused -------------------------------------------------------
// tfjs-layers trains BatchNormalization through moments + batchNorm and their autograd: ~25 passes over
// the activation per layer and step. These do it in two passes forward and two backward, with the same
// mathematics (biased batch variance, the gradient through the batch statistics). Per-channel sums are
// accumulated in double in one chunk of rows per thread, the chunks added in order (thread count decides
// the result, scheduling does not).

// Per-channel sums over R rows of C channels of two per-element terms, u = fu(row, j) and v = fv(row, j).
// Within a thread's chunk, blocks of kBlock rows are summed in float (vectorised across channels) and each
// block total is added in double.
template <typename FU, typename FV>
void channelSums(int64_t rows, int64_t c, std::vector<double> &su, std::vector<double> &sv, FU fu, FV fv) {
  constexpr int64_t kBlock = 32;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), rows));
  std::vector<double> pu(chunks * c, 0.0), pv(chunks * c, 0.0);
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t t = 0; t < chunks; t++) {
    double *u = pu.data() + t * c, *v = pv.data() + t * c;
    std::vector<float> bu(c), bv(c);
    const int64_t r1 = rows * (t + 1) / chunks;
    for (int64_t r0 = rows * t / chunks; r0 < r1; r0 += kBlock) {
      std::fill(bu.begin(), bu.end(), 0.f);
      std::fill(bv.begin(), bv.end(), 0.f);
      float *fbu = bu.data(), *fbv = bv.data();
      for (int64_t r = r0; r < std::min(r1, r0 + kBlock); r++) {
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
          fbu[j] += fu(r, j);
          fbv[j] += fv(r, j);
        }
      }
      for (int64_t j = 0; j < c; j++) {
        u[j] += fbu[j];
        v[j] += fbv[j];
      }
    }
  }
  su.assign(c, 0.0);
  sv.assign(c, 0.0);
  for (int64_t t = 0; t < chunks; t++) {
    for (int64_t j = 0; j < c; j++) {
      su[j] += pu[t * c + j];
      sv[j] += pv[t * c + j];
    }
  }
}

// p: R C | off: x gamma beta y mean var; alpha = epsilon.
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 8, "batchNormTrain(heap, Int32Array[8], eps) expected")) return nullptr;
  const int64_t rows = a.p[0], c = a.p[1];
  const float *x = a.heap + a.p[2], *gamma = a.heap + a.p[3], *beta = a.heap + a.p[4];
  float *y = a.heap + a.p[5], *mean = a.heap + a.p[6], *var = a.heap + a.p[7];
  std::vector<double> sum, sumSq;
  // Shifted by the first row so that E[x²] − E[x]² does not cancel when |mean| ≫ std.
  std::vector<float> shift(x, x + c);
  const float *sh = shift.data();
  channelSums(rows, c, sum, sumSq, [&](int64_t r, int64_t j) { return x[r * c + j] - sh[j]; },
              [&](int64_t r, int64_t j) { const float d = x[r * c + j] - sh[j]; return d * d; });
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; j++) {
    const double ms = sum[j] / rows;  // mean of the shifted values
    const double m = ms + sh[j];
    const double vr = std::max(0.0, sumSq[j] / rows - ms * ms);
    mean[j] = static_cast<float>(m);
    var[j] = static_cast<float>(vr);
    mul[j] = static_cast<float>(gamma[j] / std::sqrt(vr + a.alpha));
    add[j] = static_cast<float>(beta[j] - m * mul[j]);
  }
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * mul[j] + add[j];
  }
  return boolean(env, true);
}

// p: R C | off: dy x mean var gamma dx dgamma dbeta; alpha = epsilon.
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 10, "batchNormTrainGrad(heap, Int32Array[10], eps) expected")) return nullptr;
  const int64_t rows = a.p[0], c = a.p[1];
  const float *dy = a.heap + a.p[2], *x = a.heap + a.p[3], *mean = a.heap + a.p[4], *var = a.heap + a.p[5];
  const float *gamma = a.heap + a.p[6];
  float *dx = a.heap + a.p[7], *dgamma = a.heap + a.p[8], *dbeta = a.heap + a.p[9];
  std::vector<double> sumDy, sumDyXc;  // Σ dy, Σ dy·(x − mean)
  channelSums(rows, c, sumDy, sumDyXc, [&](int64_t r, int64_t j) { return dy[r * c + j]; },
              [&](int64_t r, int64_t j) { return dy[r * c + j] * (x[r * c + j] - mean[j]); });
  // dx = γ·σ⁻¹ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N), x̂ = (x − μ)·σ⁻¹: as dx = k·dy + q·x + b per channel.
  std::vector<float> k(c), q(c), b(c);
  for (int64_t j = 0; j < c; j++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[j]) + a.alpha);
    const double g = gamma[j] * inv;
    const double dyXhat = sumDyXc[j] * inv;  // Σ dy·x̂
    dgamma[j] = static_cast<float>(dyXhat);
    dbeta[j] = static_cast<float>(sumDy[j]);
    const double qq = -g * inv * dyXhat / rows;
    k[j] = static_cast<float>(g);
    q[j] = static_cast<float>(qq);
    b[j] = static_cast<float>(-g * sumDy[j] / rows - qq * mean[j]);
  }
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *dr = dy + r * c, *xr = x + r * c;
    float *out = dx + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) out[j] = k[j] * dr[j] + q[j] * xr[j] + b[j];
  }
  return boolean(env, true);
}

// swish(x) = x·σ(x); p: n | off: x y.   Gradient: dy·σ·(1 + x·(1 − σ)); p: n | off: dy x dx.
napi_value Swish(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 3, "swish(heap, Int32Array[3]) expected")) return nullptr;
  const float *x = a.heap + a.p[1];
  float *y = a.heap + a.p[2];
  unaryLoop(x, y, a.p[0], [](float v) { return v * sigmoidApprox(v); });
  return boolean(env, true);
}

napi_value SwishGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 4, "swishGrad(heap, Int32Array[4]) expected")) return nullptr;
  const int64_t n = a.p[0];
  const float *dy = a.heap + a.p[1], *x = a.heap + a.p[2];
  float *dx = a.heap + a.p[3];
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float s = sigmoidApprox(x[i]);
    dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
  }
  return boolean(env, true);
}

// ---- Adam -------------------------------------------------------------------------------------------
// One pass for tfjs's Adam update of one variable (its ~12 ops): m' = β1·m + (1−β1)·g,
// v' = β2·v + (1−β2)·g², θ' = θ − lr·(m'/c1) / (sqrt(v'/c2) + ε), c = 1 − β^t (from the optimizer's
// accumulators). p: n | off: θ g m v θ' m' v' | floats (as bits): lr β1 β2 ε c1 c2
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 14, "adam(heap, Int32Array[14]) expected")) return nullptr;
  const int64_t n = a.p[0];
  const float *theta = a.heap + a.p[1], *g = a.heap + a.p[2], *m = a.heap + a.p[3], *v = a.heap + a.p[4];
  float *theta2 = a.heap + a.p[5], *m2 = a.heap + a.p[6], *v2 = a.heap + a.p[7];
  float f[6];
  std::memcpy(f, a.p + 8, sizeof f);
  const float lr = f[0], b1 = f[1], b2 = f[2], eps = f[3], c1 = f[4], c2 = f[5];
  const float k1 = 1.f - b1, k2 = 1.f - b2;
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float mi = m[i] * b1 + g[i] * k1;
    const float vi = v[i] * b2 + (g[i] * g[i]) * k2;
    m2[i] = mi;
    v2[i] = vi;
    theta2[i] = (mi / c1) / (std::sqrt(vi / c2) + eps) * -lr + theta[i];
  }
  return boolean(env, true);
}

// ---- Threads and identity ---------------------------------------------------------------------------

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "setThreads(n) needs an integer n >= 1");
    return nullptr;
  }
  omp_set_num_threads(n);
  napi_value r;
  napi_create_int32(env, omp_get_max_threads(), &r);
  return r;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_int32(env, omp_get_max_threads(), &r);
  return r;
}

napi_value Version(napi_env env, napi_callback_info) {
  const dnnl_version_t *v = dnnl_version();
  std::string s = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value r;
  napi_create_string_utf8(env, s.c_str(), s.size(), &r);
  return r;
}

napi_value CacheSize(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_uint32(env, static_cast<uint32_t>(cache().size()), &r);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"convForward", nullptr, ConvForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardData", nullptr, ConvBackwardData, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardWeights", nullptr, ConvBackwardWeights, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"poolForward", nullptr, PoolForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"poolBackward", nullptr, PoolBackwardEntry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeNearestGrad", nullptr, ResizeNearestGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"concat", nullptr, Concat, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"split", nullptr, Split, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swish", nullptr, Swish, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swishGrad", nullptr, SwishGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"version", nullptr, Version, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cacheSize", nullptr, CacheSize, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
