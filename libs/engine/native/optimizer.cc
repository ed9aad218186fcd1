// Optimizer updates in plain C++ over OpenMP: one fused pass of Adam per variable, or over all of a model's
// variables in one call (adamMany), and the weight average's update (ema.cc).
#include "addon.hpp"

namespace cv {

namespace {

struct AdamConsts {
  float lr, b1, b2, eps, c1, c2, k1, k2;
};

// One element of tfjs's Adam update: m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g², θ' = θ − lr·(m'/c1) /
// (sqrt(v'/c2) + ε). Shared by adam and adamMany, so the two give the same bits.
inline void adamStep(const AdamConsts &k, float theta, float g, float m, float v, float &theta2, float &m2, float &v2) {
  const float mi = m * k.b1 + g * k.k1;
  const float vi = v * k.b2 + (g * g) * k.k2;
  m2 = mi;
  v2 = vi;
  theta2 = (mi / k.c1) / (std::sqrt(vi / k.c2) + k.eps) * -k.lr + theta;
}

AdamConsts adamConsts(const int32_t *bits) {
  float f[6];
  std::memcpy(f, bits, sizeof f);
  return {f[0], f[1], f[2], f[3], f[4], f[5], 1.f - f[1], 1.f - f[2]};
}

}  // namespace

// ---- Adam -------------------------------------------------------------------------------------------
// One pass for tfjs's Adam update of one variable (its ~12 ops), c = 1 − β^t (from the optimizer's
// accumulators). p: n | off: θ g m v θ' m' v' | floats (as bits): lr β1 β2 ε c1 c2
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 14, "adam(heap, Int32Array[14]) expected")) return nullptr;
  const int64_t n = a.p[0];
  const float *theta = a.heap + a.p[1], *g = a.heap + a.p[2], *m = a.heap + a.p[3], *v = a.heap + a.p[4];
  float *theta2 = a.heap + a.p[5], *m2 = a.heap + a.p[6], *v2 = a.heap + a.p[7];
  const AdamConsts k = adamConsts(a.p + 8);
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) adamStep(k, theta[i], g[i], m[i], v[i], theta2[i], m2[i], v2[i]);
  return boolean(env, true);
}

// ---- Adam over many variables -----------------------------------------------------------------------
// adamMany(heap, Int32Array [count, lr β1 β2 ε c1 c2 scale (float bits), (n, θ, g, m, v, θ', m', v') × count]):
// the update of every variable in one call, the gradients first multiplied by `scale` in float32 (gradient
// clipping's factor: the same product as tf.mul(g, scale); 1 = none). The variables are cut into fixed blocks
// spread over the threads in one parallel region; each element's arithmetic is adam's.
napi_value AdamMany(napi_env env, napi_callback_info info) {
  Args a;
  constexpr size_t kHead = 8, kPer = 8;
  if (!readRecordArgs(env, info, a, kHead, kPer, 0,
                      "adamMany(heap, Int32Array[count, 7 float bits, (n, θ, g, m, v, θ', m', v') × count]) expected"))
    return nullptr;
  const int64_t count = a.p[0];
  const AdamConsts k = adamConsts(a.p + 1);
  float scale;
  std::memcpy(&scale, a.p + 7, sizeof scale);
  const bool scaled = scale != 1.f;
  forEachBlock(
      count, [&](int64_t t) { return a.p[kHead + kPer * t]; },
      [&](int64_t t, int64_t, int64_t i0, int64_t i1) {
        const int32_t *q = a.p + kHead + kPer * t;
        const float *theta = a.heap + q[1], *g = a.heap + q[2], *m = a.heap + q[3], *v = a.heap + q[4];
        float *theta2 = a.heap + q[5], *m2 = a.heap + q[6], *v2 = a.heap + q[7];
        if (scaled) {
#pragma omp simd
          for (int64_t i = i0; i < i1; i++) {
            const float gi = g[i] * scale;
            adamStep(k, theta[i], gi, m[i], v[i], theta2[i], m2[i], v2[i]);
          }
        } else {
#pragma omp simd
          for (int64_t i = i0; i < i1; i++) adamStep(k, theta[i], g[i], m[i], v[i], theta2[i], m2[i], v2[i]);
        }
      });
  return boolean(env, true);
}

}  // namespace cv
