// Shared pieces of the oneDNN kernel addon: the engine and stream, argument reading, the primitive
// cache, scratchpads and the signal guard, and the small math used by several kernel families.
#pragma once
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

#include "layouts.hpp"  // generated from layouts.json by build.mjs
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace cv {


// Per JS thread (data-parallel replicas are worker threads of one process, each calling from its own
// thread): the stream, the primitive caches and OpenMP's thread count are all thread-local.
inline engine &cpu() {
  static engine e(engine::kind::cpu, 0);  // engines are thread-safe
  return e;
}
inline stream &strm() {
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

inline bool readArgs(napi_env env, napi_callback_info info, Args &a) {
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
inline bool readArgsOf(napi_env env, napi_callback_info info, Args &a, size_t count, const char *usage) {
  if (readArgs(env, info, a) && a.np == count) return true;
  napi_throw_type_error(env, nullptr, usage);
  return false;
}

// Reads arguments laid out as `head` values whose first is a record count, then `per` values for each record,
// then `tail` values; on a negative count or a length that does not match throws `usage` as a TypeError.
inline bool readRecordArgs(napi_env env, napi_callback_info info, Args &a, size_t head, size_t per, size_t tail,
                           const char *usage) {
  if (readArgs(env, info, a) && a.np >= head + tail && head > 0 && a.p[0] >= 0 &&
      a.np == head + per * static_cast<size_t>(a.p[0]) + tail)
    return true;
  napi_throw_type_error(env, nullptr, usage);
  return false;
}

inline napi_value boolean(napi_env env, bool v) {
  napi_value r;
  napi_get_boolean(env, v, &r);
  return r;
}

inline void throwError(napi_env env, const char *what, const dnnl::error &e) {
  std::string msg = std::string("oneDNN ") + what + ": " + e.what();
  napi_throw_error(env, nullptr, msg.c_str());
}

// A primitive is planned for the thread count in effect when it is created (work split, scratchpad
// size), so the count is part of the key.
inline std::string keyOf(char kind, const int32_t *p, size_t n, float alpha) {
  std::string k(1, kind);
  const int threads = omp_get_max_threads();
  k.append(reinterpret_cast<const char *>(&threads), sizeof(int));
  k.append(reinterpret_cast<const char *>(p), n * sizeof(int32_t));
  k.append(reinterpret_cast<const char *>(&alpha), sizeof(float));
  return k;
}

// No implementation for this case, or a geometry oneDNN does not accept: the caller falls back to wasm.
inline bool unsupported(const dnnl::error &e) { return e.status == dnnl_unimplemented || e.status == dnnl_invalid_arguments; }

inline memory::dim dimOf(int32_t v) { return static_cast<memory::dim>(v); }

// Fused activations (tfjs's FusedConv2D / _FusedMatMul names, numbered by the caller).
enum Act { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kSigmoid = 4, kLeakyRelu = 5, kSwish = 6 };

// Scratchpads are the caller's (one growing buffer per thread, shared by all primitives) rather than
// one per cached primitive.
inline primitive_attr userScratchpad() {
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  return attr;
}

inline primitive_attr activationAttr(int act, float alpha) {
  primitive_attr attr = userScratchpad();
  if (act == kLinear) return attr;
  post_ops ops;
  switch (act) {
    case kRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, 0.f, 0.f); break;
    case kRelu6: ops.append_eltwise(1.f, algorithm::eltwise_clip_v2, 0.f, 6.f); break;
    case kElu: ops.append_eltwise(1.f, algorithm::eltwise_elu, 1.f, 0.f); break;
    case kSigmoid: ops.append_eltwise(1.f, algorithm::eltwise_logistic, 0.f, 0.f); break;
    case kLeakyRelu: ops.append_eltwise(1.f, algorithm::eltwise_relu, alpha, 0.f); break;
    case kSwish: ops.append_eltwise(1.f, algorithm::eltwise_swish, 1.f, 0.f); break;  // x·sigmoid(x) (SiLU)
    default: break;
  }
  attr.set_post_ops(ops);
  return attr;
}

struct Cached {
  primitive prim;
  memory::desc a, b, c, d;  // the mds of the arguments, in the entry's order
  memory::desc workspace;   // pooling only
  size_t scratchBytes = 0;
  memory::desc weiInternal;      // convolutions: the filter layout the primitive computes in
  primitive weiReorder;          // HWIO → weiInternal (or back, for the filter gradient); empty when equal
  std::vector<float> weiBuffer;  // the filter in weiInternal
  bool weiReady = false;         // weiBuffer already holds an immutable filter (conv filterKey >= 0)
  // bf16 convolutions: the bf16 copies of the x and y operands they read (x: forward and filter-gradient
  // input; y: the output gradient of the two backward modes), converted from f32 NHWC per call; empty for f32.
  memory::desc xHalf, yHalf;
  primitive xToHalf, yToHalf;
  std::vector<uint16_t> xBuffer, yBuffer;
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
inline void execute(Cached *c, std::unordered_map<int, memory> &args) {
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

inline std::map<std::string, std::unique_ptr<Cached>> &cache() {
  thread_local std::map<std::string, std::unique_ptr<Cached>> c;
  return c;
}

// Memory-bound loops run in parallel only above this many elements (below, the threads cost more).
constexpr int64_t kParallelMin = 1 << 14;

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

template <typename F>
void unaryLoop(const float *x, float *y, int64_t n, F f) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
}

// Fixed blocks of kBlockElems elements over `count` arrays (array t holds len(t) elements): blockStarts gives each
// array's first block number (and the total last); forEachBlock spreads the blocks over the threads in one parallel
// region and calls fn(t, b, i0, i1) for block b (numbered across all arrays) of array t, elements [i0, i1). Which
// elements a block holds does not depend on the thread count (sumSquares adds its blocks in order).
constexpr int64_t kBlockElems = 1 << 13;

template <typename Len>
std::vector<int64_t> blockStarts(int64_t count, Len len) {
  std::vector<int64_t> first(count + 1, 0);
  for (int64_t t = 0; t < count; t++) first[t + 1] = first[t] + (len(t) + kBlockElems - 1) / kBlockElems;
  return first;
}

template <typename Len, typename F>
void forEachBlock(int64_t count, Len len, F fn) {
  const std::vector<int64_t> first = blockStarts(count, len);
  const int64_t blocks = first[count];
#pragma omp parallel for schedule(static) if (blocks > 2)
  for (int64_t b = 0; b < blocks; b++) {
    const int64_t t = std::upper_bound(first.begin(), first.end(), b) - first.begin() - 1;
    const int64_t i0 = (b - first[t]) * kBlockElems;
    fn(t, b, i0, std::min<int64_t>(len(t), i0 + kBlockElems));
  }
}

// Entries, one per kernel family file (see the Init table in onednn.cc).
napi_value ConvForward(napi_env env, napi_callback_info info);
napi_value ConvBackwardData(napi_env env, napi_callback_info info);
napi_value ConvBackwardWeights(napi_env env, napi_callback_info info);
napi_value MatMul(napi_env env, napi_callback_info info);
napi_value PoolForward(napi_env env, napi_callback_info info);
napi_value PoolBackwardEntry(napi_env env, napi_callback_info info);
napi_value Reduce(napi_env env, napi_callback_info info);
napi_value Binary(napi_env env, napi_callback_info info);
napi_value Unary(napi_env env, napi_callback_info info);
napi_value BatchNorm(napi_env env, napi_callback_info info);
napi_value ResizeNearestGrad(napi_env env, napi_callback_info info);
napi_value Concat(napi_env env, napi_callback_info info);
napi_value Split(napi_env env, napi_callback_info info);
napi_value BatchNormTrain(napi_env env, napi_callback_info info);
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info);
napi_value Swish(napi_env env, napi_callback_info info);
napi_value SwishGrad(napi_env env, napi_callback_info info);
napi_value Adam(napi_env env, napi_callback_info info);
napi_value AdamMany(napi_env env, napi_callback_info info);
napi_value EmaUpdate(napi_env env, napi_callback_info info);
napi_value ReleaseFilter(napi_env env, napi_callback_info info);
napi_value FastBf16(napi_env env, napi_callback_info info);
napi_value GraphCreate(napi_env env, napi_callback_info info);
napi_value GraphRun(napi_env env, napi_callback_info info);
napi_value GraphRelease(napi_env env, napi_callback_info info);
napi_value PixelsToUnit(napi_env env, napi_callback_info info);
napi_value WarpAffine(napi_env env, napi_callback_info info);
napi_value SumSquares(napi_env env, napi_callback_info info);
napi_value FlipX(napi_env env, napi_callback_info info);
napi_value HsvJitter(napi_env env, napi_callback_info info);
napi_value BytesToUnit(napi_env env, napi_callback_info info);

}  // namespace cv
