// The weight average's update, ema ← d·ema + (1 − d)·w, for all of a model's weights in one call.
// Contraction into fused multiply-adds is off in this file: each product is rounded to float32 before the sum,
// as tfjs's Multiply, Multiply, Add kernels compute it (kernels/ema-update.ts gives the same bits in JavaScript).
#pragma GCC optimize("fp-contract=off")
#include "addon.hpp"

namespace cv {

// emaUpdate(heap, Int32Array [count, d, 1 − d (float bits), (n, ema, w, out) × count]). Fixed blocks over all the
// weights in one parallel region.
napi_value EmaUpdate(napi_env env, napi_callback_info info) {
  Args a;
  constexpr size_t kHead = 3, kPer = 4;
  if (!readArgs(env, info, a) || a.np < kHead || a.np != kHead + kPer * static_cast<size_t>(a.p[0])) {
    napi_throw_type_error(env, nullptr, "emaUpdate(heap, Int32Array[count, d, 1 − d (float bits), (n, ema, w, out) × count]) expected");
    return nullptr;
  }
  const int64_t count = a.p[0];
  float d, rest;
  std::memcpy(&d, a.p + 1, sizeof d);
  std::memcpy(&rest, a.p + 2, sizeof rest);
  constexpr int64_t kBlock = 1 << 13;
  std::vector<int64_t> firstBlock(count + 1, 0);
  for (int64_t t = 0; t < count; t++) firstBlock[t + 1] = firstBlock[t] + (a.p[kHead + kPer * t] + kBlock - 1) / kBlock;
  const int64_t blocks = firstBlock[count];
#pragma omp parallel for schedule(static) if (blocks > 2)
  for (int64_t b = 0; b < blocks; b++) {
    const int64_t t = std::upper_bound(firstBlock.begin(), firstBlock.end(), b) - firstBlock.begin() - 1;
    const int32_t *q = a.p + kHead + kPer * t;
    const float *e = a.heap + q[1], *w = a.heap + q[2];
    float *o = a.heap + q[3];
    const int64_t i0 = (b - firstBlock[t]) * kBlock, i1 = std::min<int64_t>(q[0], i0 + kBlock);
#pragma omp simd
    for (int64_t i = i0; i < i1; i++) {
      const float x = e[i] * d;
      const float y = w[i] * rest;
      o[i] = x + y;
    }
  }
  return boolean(env, true);
}

}  // namespace cv
