// oneDNN matmul: batched, transposes by strides, bias and activation fused.
#include "addon.hpp"

namespace cv {

// ---- MatMul -----------------------------------------------------------------------------------------
// The parameters are layouts.json's `matmul` (layout::Matmul): shape, then the offsets a b bias c (bias: N values,
// -1 when absent).
// A is [batchA, M, K] ([batchA, K, M] when transA), B is [batchB, K, N] ([batchB, N, K] when transB),
// C is [max(batchA, batchB), M, N]; a batch of 1 broadcasts.
using layout::Matmul;
constexpr size_t kMatMulParams = Matmul::params;
constexpr size_t kMatMulArgs = Matmul::args;

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
      const memory::dim ba = p[Matmul::batchA], bb = p[Matmul::batchB], m = p[Matmul::m], k = p[Matmul::k], n = p[Matmul::n];
      const memory::dim b = std::max(ba, bb);
      auto am = p[Matmul::transA] ? memory::desc({ba, m, k}, dt::f32, memory::dims{m * k, 1, m})
                     : memory::desc({ba, m, k}, dt::f32, memory::dims{m * k, k, 1});
      auto bm = p[Matmul::transB] ? memory::desc({bb, k, n}, dt::f32, memory::dims{k * n, 1, k})
                     : memory::desc({bb, k, n}, dt::f32, memory::dims{k * n, n, 1});
      auto cm = memory::desc({b, m, n}, dt::f32, memory::dims{m * n, n, 1});
      auto biasm = memory::desc({1, 1, n}, dt::f32, memory::dims{n, n, 1});
      auto d = off[2] >= 0 ? matmul::desc(am, bm, biasm, cm) : matmul::desc(am, bm, cm);
      auto entry = std::make_unique<Cached>();
      auto pd = matmul::primitive_desc(d, activationAttr(p[Matmul::activation], a.alpha), cpu());
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

}  // namespace cv
