// Optimizer updates in plain C++ over OpenMP: one fused pass of Adam per variable.
#include "addon.hpp"

namespace cv {

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

}  // namespace cv
