// oneDNN max / average pooling and their gradients.
#include "addon.hpp"

namespace cv {

// ---- Pooling ----------------------------------------------------------------------------------------
// The parameters are layouts.json's `pool` (layout::Pool), then the offsets x y (forward) or x dy dx (backward).
// Max pooling treats padding as -inf; average pooling divides by the in-bounds count (tfjs's rule).
// Backward entries need only the input's shape and dy; x is read by max pooling (to find the argmax).
using layout::Pool;
constexpr size_t kPoolParams = Pool::params;

struct PoolGeom {
  memory::desc src, dst;
  memory::dims strides, kernel, padL, padR;
  algorithm alg;
};

PoolGeom poolGeom(const int32_t *p, bool backward) {
  PoolGeom g;
  g.src = memory::desc({p[Pool::batch], p[Pool::channels], p[Pool::inHeight], p[Pool::inWidth]}, dt::f32, tag::nhwc);
  g.dst = memory::desc({p[Pool::batch], p[Pool::channels], p[Pool::outHeight], p[Pool::outWidth]}, dt::f32, tag::nhwc);
  g.kernel = {p[Pool::filterHeight], p[Pool::filterWidth]};
  g.strides = {p[Pool::strideHeight], p[Pool::strideWidth]};
  g.padL = {p[Pool::padTop], p[Pool::padLeft]};
  g.padR = {p[Pool::padBottom], p[Pool::padRight]};
  // tfjs's AvgPoolGrad spreads each gradient by 1 / (kh·kw), padding included, although its forward
  // pass divides by the in-bounds count: the backward primitive follows tfjs, not its own forward.
  const algorithm avg = backward ? algorithm::pooling_avg_include_padding : algorithm::pooling_avg_exclude_padding;
  g.alg = p[Pool::average] ? avg : algorithm::pooling_max;
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
    const bool max = a.p[Pool::average] == 0;
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
