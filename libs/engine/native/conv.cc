// oneDNN convolutions: forward (bias and activation fused), input gradient, filter (and bias) gradient.
#include "addon.hpp"

namespace cv {

// ---- Convolution ------------------------------------------------------------------------------------
// The parameters are layouts.json's `conv` (layout::Conv): shape, then the offsets x w bias y (bias = -1 when absent). Modes: forward (y = act(x * w + bias)), backward-data (x ← dy = y),
// backward-weights (w ← dW, bias ← dbias when given; from x and dy = y).
//
// Two more parameters: `filterKey` >= 0 names an immutable filter (an inference graph's folded one), so its
// conversion into the primitive's layout is done once and kept with the primitive; `precision` 1 asks for
// bf16 operands (any mode, see makeConv): what is read is converted f32 → bf16, sums and what is written stay
// f32 (bias and post-ops too) — on AMX / AVX512-BF16 cores oneDNN runs these several times faster than f32.
// Where no bf16 implementation exists the primitive is the f32 one.
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

// f32 → bf16, round to nearest even (NaN stays NaN), over a dense buffer: the NHWC operands of the bf16
// convolutions have the same element order in both types. A plain loop the compiler vectorises; oneDNN's
// generic reorder for this case ran at a fraction of the memory bandwidth.
void toBf16(const float *x, uint16_t *y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    uint32_t u;
    std::memcpy(&u, x + i, sizeof u);
    const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    y[i] = static_cast<uint16_t>(nan ? (u >> 16) | 0x40u : rounded);
  }
}

// Converts an f32 NHWC operand into its bf16 copy: the loop above where the copy is dense NHWC, else oneDNN's reorder.
void halve(const primitive &cvt, const memory::desc &half, const memory::desc &plain, memory &from, std::vector<uint16_t> &buf) {
  memory to(half, cpu(), buf.data());
  if (half == plain) {
    toBf16(static_cast<const float *>(from.get_data_handle()), buf.data(), static_cast<int64_t>(half.get_size() / 2));
  } else {
    cvt.execute(strm(), {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}});
  }
  from = to;
}

// The primitive of one mode, f32 or bf16. In bf16 the operands read (x for forward and filter gradient, the
// output gradient y for both backward modes) and the filter read (forward, input gradient) are bf16; what
// is written — y forward, dx, the filter gradient and dbias — stays f32, so the rest of the step is unchanged.
void makeConv(Cached &e, char mode, const ConvGeom &g, bool bias, const int32_t *p, float alpha, bool half) {
  ConvGeom h = g;
  if (half) {
    h.src = memory::desc(g.src.dims(), dt::bf16, tag::nhwc);
    h.dst = memory::desc(g.dst.dims(), dt::bf16, tag::nhwc);
    h.weiAny = memory::desc(g.wei.dims(), dt::bf16, tag::any);
  }
  auto forwardDesc = [&](const ConvGeom &c, const memory::desc &dst, bool withBias, prop_kind kind) {
    return withBias ? convolution_forward::desc(kind, algorithm::convolution_direct, c.src, c.weiAny, c.bias, dst, c.strides, c.dilates, c.padL, c.padR)
                    : convolution_forward::desc(kind, algorithm::convolution_direct, c.src, c.weiAny, dst, c.strides, c.dilates, c.padL, c.padR);
  };
  if (mode == 'f') {
    // Forward: y (f32) = act(x * w + bias).
    convolution_forward::primitive_desc pd(forwardDesc(h, g.dst, bias, prop_kind::forward_training), activationAttr(p[Conv::activation], alpha), cpu());
    e.prim = convolution_forward(pd);
    e.scratchBytes = pd.scratchpad_desc().get_size();
    e.weiInternal = pd.weights_desc();
    if (half) e.xHalf = pd.src_desc();
  } else if (mode == 'd') {
    convolution_forward::primitive_desc hint(forwardDesc(h, h.dst, false, prop_kind::forward_training), userScratchpad(), cpu());
    auto d = convolution_backward_data::desc(algorithm::convolution_direct, g.src, h.weiAny, h.dst, g.strides, g.dilates, g.padL, g.padR);
    convolution_backward_data::primitive_desc pd(d, userScratchpad(), cpu(), hint);
    e.prim = convolution_backward_data(pd);
    e.scratchBytes = pd.scratchpad_desc().get_size();
    e.weiInternal = pd.weights_desc();
    if (half) e.yHalf = pd.diff_dst_desc();
  } else {
    convolution_forward::primitive_desc hint(forwardDesc(h, h.dst, bias, prop_kind::forward_training), userScratchpad(), cpu());
    auto d = bias ? convolution_backward_weights::desc(algorithm::convolution_direct, h.src, g.weiAny, g.bias, h.dst, g.strides, g.dilates, g.padL, g.padR)
                  : convolution_backward_weights::desc(algorithm::convolution_direct, h.src, g.weiAny, h.dst, g.strides, g.dilates, g.padL, g.padR);
    convolution_backward_weights::primitive_desc pd(d, userScratchpad(), cpu(), hint);
    e.prim = convolution_backward_weights(pd);
    e.scratchBytes = pd.scratchpad_desc().get_size();
    e.weiInternal = pd.diff_weights_desc();
    if (half) {
      e.xHalf = pd.src_desc();
      e.yHalf = pd.diff_dst_desc();
    }
  }
  if (half && !e.xHalf.is_zero()) {
    e.xBuffer.resize((e.xHalf.get_size() + 1) / 2);
    e.xToHalf = reorder(memory(g.src, cpu(), nullptr), memory(e.xHalf, cpu(), nullptr));
  }
  if (half && !e.yHalf.is_zero()) {
    e.yBuffer.resize((e.yHalf.get_size() + 1) / 2);
    e.yToHalf = reorder(memory(g.dst, cpu(), nullptr), memory(e.yHalf, cpu(), nullptr));
  }
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
  bool bf16 = p[Conv::precision] == 1;
  if (bf16) {
    try {
      makeConv(*entry, mode, g, bias, p, alpha, true);
    } catch (const dnnl::error &e) {
      if (!unsupported(e)) throw;
      bf16 = false;  // no bf16 implementation here: the f32 primitive
      entry = std::make_unique<Cached>();
    }
  }
  if (!bf16) makeConv(*entry, mode, g, bias, p, alpha, false);
  // oneDNN's fastest convolutions want a blocked filter layout: convert tfjs's HWIO filter into it before
  // the primitive (forward, input gradient), or the filter gradient out of it afterwards. Filters are
  // small next to activations, so this costs little and lets the activations stay NHWC.
  if (entry->weiInternal != g.wei) {
    entry->weiBuffer.resize((entry->weiInternal.get_size() + sizeof(float) - 1) / sizeof(float));  // bf16: half as many
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
    const bool immutable = a.p[Conv::filterKey] >= 0;
    if (reordered && mode != 'w' && !(immutable && c->weiReady)) {
      c->weiReorder.execute(strm(), {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, w}});
      c->weiReady = immutable;
    }
    if (!c->xBuffer.empty()) halve(c->xToHalf, c->xHalf, memory::desc(c->a.dims(), dt::bf16, tag::nhwc), x, c->xBuffer);
    if (!c->yBuffer.empty()) halve(c->yToHalf, c->yHalf, memory::desc(c->d.dims(), dt::bf16, tag::nhwc), y, c->yBuffer);
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

// releaseFilter(key): drops the calling thread's primitives (and their converted filters) made for the
// immutable filter `key` — an inference graph's filter being disposed. Returns how many were dropped.
napi_value ReleaseFilter(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t key = -1;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &key) != napi_ok || key < 0) {
    napi_throw_type_error(env, nullptr, "releaseFilter(key >= 0) expected");
    return nullptr;
  }
  // keyOf's layout: kind, thread count, then the parameters.
  const size_t at = 1 + sizeof(int) + Conv::filterKey * sizeof(int32_t);
  auto &c = cache();
  int32_t dropped = 0;
  for (auto it = c.begin(); it != c.end();) {
    const char kind = it->first[0];
    int32_t k = -1;
    if ((kind == 'f' || kind == 'd' || kind == 'w') && it->first.size() >= at + sizeof k) std::memcpy(&k, it->first.data() + at, sizeof k);
    if (k == key) {
      it = c.erase(it);
      dropped++;
    } else {
      ++it;
    }
  }
  napi_value r;
  napi_create_int32(env, dropped, &r);
  return r;
}

// fastBf16(): whether oneDNN runs bf16 convolutions natively here (AMX or AVX512-BF16), so a bf16
// inference graph is worth asking for; false on older cores, where bf16 is emulated.
napi_value FastBf16(napi_env env, napi_callback_info info) {
  const cpu_isa isa = get_effective_cpu_isa();
  const bool fast = isa == cpu_isa::avx512_core_bf16 || isa == cpu_isa::avx512_core_amx;
  return boolean(env, fast);
}
napi_value ConvBackwardData(napi_env env, napi_callback_info info) { return convEntry(env, info, 'd'); }
napi_value ConvBackwardWeights(napi_env env, napi_callback_info info) { return convEntry(env, info, 'w'); }

}  // namespace cv
