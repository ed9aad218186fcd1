// oneDNN convolutions: forward (bias and activation fused), input gradient, filter (and bias) gradient.
#include "addon.hpp"

namespace cv {

// ---- Convolution ------------------------------------------------------------------------------------
// The parameters are layouts.json's `conv` (layout::Conv): shape, then the offsets x w bias y (bias = -1 when absent). Modes: forward (y = act(x * w + bias)), backward-data (x ← dy = y),
// backward-weights (w ← dW, bias ← dbias when given; from x and dy = y).
using layout::Conv;
constexpr size_t kConvParams = Conv::params;
constexpr size_t kConvArgs = Conv::args;

struct ConvGeom {
  memory::desc src, wei, weiAny, bias, dst;  // weiAny: the filter layout left to oneDNN
  memory::dims strides, dilates, padL, padR;
};

ConvGeom convGeom(const int32_t *p) {
  const memory::dim n = p[Conv::batch], ih = p[Conv::inHeight], iw = p[Conv::inWidth], ic = p[Conv::inChannels];
  const memory::dim oh = p[Conv::outHeight], ow = p[Conv::outWidth], oc = p[Conv::outChannels];
  const memory::dim kh = p[Conv::filterHeight], kw = p[Conv::filterWidth], g = p[Conv::groups];
  ConvGeom c;
  c.src = memory::desc({n, ic, ih, iw}, dt::f32, tag::nhwc);
  c.dst = memory::desc({n, oc, oh, ow}, dt::f32, tag::nhwc);
  c.wei = g == 1 ? memory::desc({oc, ic, kh, kw}, dt::f32, tag::hwio)
                 : memory::desc({g, oc / g, ic / g, kh, kw}, dt::f32, tag::hwigo);
  c.weiAny = memory::desc(c.wei.dims(), dt::f32, tag::any);
  c.bias = memory::desc({oc}, dt::f32, tag::a);
  c.strides = {dimOf(p[Conv::strideHeight]), dimOf(p[Conv::strideWidth])};
  c.dilates = {dimOf(p[Conv::dilationHeight] - 1), dimOf(p[Conv::dilationWidth] - 1)};  // oneDNN counts dilation from 0
  c.padL = {dimOf(p[Conv::padTop]), dimOf(p[Conv::padLeft])};
  c.padR = {dimOf(p[Conv::padBottom]), dimOf(p[Conv::padRight])};
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
  const bool withBias = p[Conv::bias] >= 0;
  const std::string key = keyOf(mode, p, kConvParams, alpha) + (withBias ? "b" : "-");  // shapes, not offsets
  auto &c = cache();
  auto it = c.find(key);
  if (it != c.end()) return it->second.get();
  const ConvGeom g = convGeom(p);
  const bool bias = p[Conv::bias] >= 0;
  auto entry = std::make_unique<Cached>();
  if (mode == 'f') {
    auto pd = convForwardPd(g, bias, activationAttr(p[Conv::activation], alpha));
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

}  // namespace cv
