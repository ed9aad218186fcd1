// The weight average's update, ema ← d·ema + (1 − d)·w, for all of a model's weights in one call.
// Contraction into fused multiply-adds is off in this file: each product is rounded to float32 before the sum,
// as tfjs's Multiply, Multiply, Add kernels compute it (kernels/ema-update.ts gives the same bits in JavaScript).
#pragma GCC optimize("fp-contract=off")
#include "addon.hpp"

namespace cv {

// emaUpdate(heap, Int32Array [count, d, 1 − d (float bits), (n, ema, w, out) × count]): fixed blocks over all the
// weights in one parallel region (forEachBlock).
napi_value EmaUpdate(napi_env env, napi_callback_info info) {
  Args a;
  constexpr size_t kHead = 3, kPer = 4;
  if (!readRecordArgs(env, info, a, kHead, kPer, 0,
                      "emaUpdate(heap, Int32Array[count, d, 1 − d (float bits), (n, ema, w, out) × count]) expected"))
    return nullptr;
  const int64_t count = a.p[0];
  float d, rest;
  std::memcpy(&d, a.p + 1, sizeof d);
  std::memcpy(&rest, a.p + 2, sizeof rest);
  forEachBlock(
      count, [&](int64_t t) { return a.p[kHead + kPer * t]; },
      [&](int64_t t, int64_t, int64_t i0, int64_t i1) {
        const int32_t *q = a.p + kHead + kPer * t;
        const float *e = a.heap + q[1], *w = a.heap + q[2];
        float *o = a.heap + q[3];
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
          const float x = e[i] * d;
          const float y = w[i] * rest;
          o[i] = x + y;
        }
      });
  return boolean(env, true);
}

}  // namespace cv
