// Elementwise ops in plain C++ over OpenMP: binary ops with broadcasting, unary ops, swish and its gradient.
#include "addon.hpp"

namespace cv {

// ---- Binary and unary ops ---------------------------------------------------------------------------
// Memory-bound loops that tfjs-backend-wasm runs on one thread with 128-bit SIMD (or in JS); here they
// run on all of the job's threads. Every output element depends on its inputs only, so results do not
// depend on the thread count.
// Broadcast patterns of a binary op's operands over the output of n elements:
// 0 full (index i), 1 scalar, 2 inner (index i % m: a trailing-axes operand such as a bias),
// 3 outer (index i / m: a leading-axes operand such as a per-row scale).
inline int64_t operandIndex(int mode, int64_t i, int64_t m) {
  switch (mode) {
    case 1: return 0;
    case 2: return i % m;
    case 3: return i / m;
    default: return i;
  }
}

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kMax = 4, kMin = 5, kSquaredDiff = 6 };

template <typename F>
void binaryLoop(const float *a, int ma, int64_t pa, const float *b, int mb, int64_t pb, float *y, int64_t n, F f) {
  const bool par = n >= kParallelMin;
  if (ma == 0 && mb == 0) {
#pragma omp parallel for simd schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(a[i], b[i]);
  } else if (mb == 1 && ma == 0) {  // x op scalar
    const float s = b[0];
#pragma omp parallel for simd schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(a[i], s);
  } else if (ma == 1 && mb == 0) {
    const float s = a[0];
#pragma omp parallel for simd schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(s, b[i]);
  } else if ((ma == 0 && mb == 2) || (ma == 2 && mb == 0)) {  // x op bias: rows of the operand's length
    const int64_t len = ma == 2 ? pa : pb, rows = n / len;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; r++) {
      const float *ar = ma == 2 ? a : a + r * len;
      const float *br = mb == 2 ? b : b + r * len;
      float *yr = y + r * len;
#pragma omp simd
      for (int64_t j = 0; j < len; j++) yr[j] = f(ar[j], br[j]);
    }
  } else if ((ma == 0 && mb == 3) || (ma == 3 && mb == 0)) {  // x op per-row value
    const int64_t len = ma == 3 ? pa : pb, rows = n / len;
#pragma omp parallel for schedule(static) if (par)
    for (int64_t r = 0; r < rows; r++) {
      float *yr = y + r * len;
      if (ma == 3) {
        const float s = a[r];
        const float *br = b + r * len;
#pragma omp simd
        for (int64_t j = 0; j < len; j++) yr[j] = f(s, br[j]);
      } else {
        const float s = b[r];
        const float *ar = a + r * len;
#pragma omp simd
        for (int64_t j = 0; j < len; j++) yr[j] = f(ar[j], s);
      }
    }
  } else {
#pragma omp parallel for schedule(static) if (par)
    for (int64_t i = 0; i < n; i++) y[i] = f(a[operandIndex(ma, i, pa)], b[operandIndex(mb, i, pb)]);
  }
}

// p: op n modeA paramA modeB paramB | off: a b y
napi_value Binary(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 9, "binary(heap, Int32Array[9]) expected")) return nullptr;
  const int32_t *p = a.p;
  const float *x = a.heap + p[6], *z = a.heap + p[7];
  float *y = a.heap + p[8];
  const int64_t n = p[1];
  switch (p[0]) {
    case kAdd: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u + v; }); break;
    case kSub: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u - v; }); break;
    case kMul: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u * v; }); break;
    case kDiv: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return u / v; }); break;
    case kMax: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return (u > v) | (u != u) ? u : v; }); break;
    case kMin: binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return (u < v) | (u != u) ? u : v; }); break;
    case kSquaredDiff:
      binaryLoop(x, p[2], p[3], z, p[4], p[5], y, n, [](float u, float v) { return (u - v) * (u - v); });
      break;
    default: return boolean(env, false);
  }
  return boolean(env, true);
}

enum UnaryOp { kUnRelu = 0, kUnSigmoid = 1, kUnStep = 2, kUnSquare = 3, kUnNeg = 4, kUnSqrt = 5, kUnCopy = 6, kUnExp = 7, kUnRsqrt = 8 };


// p: op n | off: x y. alpha: Step's value for x <= 0 (tfjs: x > 0 ? 1 : alpha; NaN stays NaN).
napi_value Unary(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 4, "unary(heap, Int32Array[4], alpha?) expected")) return nullptr;
  const float *x = a.heap + a.p[2];
  float *y = a.heap + a.p[3];
  const int64_t n = a.p[1];
  const float alpha = a.alpha;
  switch (a.p[0]) {
    case kUnRelu: unaryLoop(x, y, n, [](float v) { return v < 0.f ? 0.f : v; }); break;  // NaN passes, as tfjs
    case kUnSigmoid: unaryLoop(x, y, n, [](float v) { return sigmoidApprox(v); }); break;
    case kUnStep:  // branch-free, so it vectorises (half-negative inputs made a branchy loop 10x slower)
      unaryLoop(x, y, n, [alpha](float v) {
        const float r = alpha + (1.f - alpha) * static_cast<float>(v > 0.f);
        return v == v ? r : v;
      });
      break;
    case kUnSquare: unaryLoop(x, y, n, [](float v) { return v * v; }); break;
    case kUnNeg: unaryLoop(x, y, n, [](float v) { return -v; }); break;
    case kUnSqrt: unaryLoop(x, y, n, [](float v) { return std::sqrt(v); }); break;
    case kUnCopy: unaryLoop(x, y, n, [](float v) { return v; }); break;
    case kUnExp: unaryLoop(x, y, n, [](float v) { return std::exp(v); }); break;
    case kUnRsqrt: unaryLoop(x, y, n, [](float v) { return 1.f / std::sqrt(v); }); break;
    default: return boolean(env, false);
  }
  return boolean(env, true);
}


// swish(x) = x·σ(x); p: n | off: x y.   Gradient: dy·σ·(1 + x·(1 − σ)); p: n | off: dy x dx.
napi_value Swish(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 3, "swish(heap, Int32Array[3]) expected")) return nullptr;
  const float *x = a.heap + a.p[1];
  float *y = a.heap + a.p[2];
  unaryLoop(x, y, a.p[0], [](float v) { return v * sigmoidApprox(v); });
  return boolean(env, true);
}

napi_value SwishGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 4, "swishGrad(heap, Int32Array[4]) expected")) return nullptr;
  const int64_t n = a.p[0];
  const float *dy = a.heap + a.p[1], *x = a.heap + a.p[2];
  float *dx = a.heap + a.p[3];
#pragma omp parallel for simd schedule(static) if (n >= kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float s = sigmoidApprox(x[i]);
    dx[i] = dy[i] * s * (1.f + x[i] * (1.f - s));
  }
  return boolean(env, true);
}

}  // namespace cv
