// oneDNN primitives: convolutions (forward, input and filter gradients), matmul, pooling.
#include "addon.hpp"

namespace cv {

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

}  // namespace cv
