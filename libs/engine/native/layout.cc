// Data movement in plain C++ over OpenMP: concat / split along an axis, the nearest-upsampling gradient.
#include "addon.hpp"

namespace cv {

// Nearest-neighbour upsampling by integer factors (fy, fx) (alignCorners and halfPixelCenters false):
// dx[n, i, j, c] = sum of dy over the fy×fx block it was copied to. p: N H W C fy fx | off: dy dx
napi_value ResizeNearestGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 8, "resizeNearestGrad(heap, Int32Array[8]) expected")) return nullptr;
  const int64_t nb = a.p[0], h = a.p[1], w = a.p[2], c = a.p[3], fy = a.p[4], fx = a.p[5];
  const float *dy = a.heap + a.p[6];
  float *dx = a.heap + a.p[7];
  const int64_t ow = w * fx;
#pragma omp parallel for schedule(static) if (nb * h * w * c >= kParallelMin)
  for (int64_t row = 0; row < nb * h; row++) {
    const int64_t n = row / h, i = row % h;
    for (int64_t j = 0; j < w; j++) {
      float *out = dx + (row * w + j) * c;
      for (int64_t q = 0; q < c; q++) out[q] = 0.f;
      for (int64_t u = 0; u < fy; u++) {
        for (int64_t v = 0; v < fx; v++) {
          const float *src = dy + (((n * h * fy) + i * fy + u) * ow + j * fx + v) * c;
#pragma omp simd
          for (int64_t q = 0; q < c; q++) out[q] += src[q];
        }
      }
    }
  }
  return boolean(env, true);
}

// Concat along an axis: each input is [outer, inner_k], the output [outer, sum inner_k].
// p: outer k inner_0..inner_{k-1} off_0..off_{k-1} offOut. Split is the same walk reversed (split=1).
napi_value ConcatSplit(napi_env env, napi_callback_info info, bool split) {
  Args a;
  if (!readArgs(env, info, a) || a.np < 3) {
    napi_throw_type_error(env, nullptr, "concat/split(heap, Int32Array) expected");
    return nullptr;
  }
  const int64_t outer = a.p[0], k = a.p[1];
  if (a.np != static_cast<size_t>(3 + 2 * k)) {
    napi_throw_type_error(env, nullptr, "concat/split: parameter count does not match the part count");
    return nullptr;
  }
  const int32_t *inner = a.p + 2, *offs = a.p + 2 + k;
  int64_t total = 0;
  for (int64_t t = 0; t < k; t++) total += inner[t];
  float *whole = a.heap + a.p[2 + 2 * k];
#pragma omp parallel for schedule(static) if (outer * total >= kParallelMin)
  for (int64_t r = 0; r < outer; r++) {
    int64_t col = 0;
    for (int64_t t = 0; t < k; t++) {
      float *part = a.heap + offs[t] + r * inner[t];
      float *row = whole + r * total + col;
      if (split) std::memcpy(part, row, inner[t] * sizeof(float));
      else std::memcpy(row, part, inner[t] * sizeof(float));
      col += inner[t];
    }
  }
  return boolean(env, true);
}
napi_value Concat(napi_env env, napi_callback_info info) { return ConcatSplit(env, info, false); }
napi_value Split(napi_env env, napi_callback_info info) { return ConcatSplit(env, info, true); }

}  // namespace cv
