// Reductions in plain C++ over OpenMP (sums and means over a contiguous axis run).
#include "addon.hpp"

namespace cv {

// ---- Reduction --------------------------------------------------------------------------------------
// p: A R B mean | off: x y. x viewed as [A, R, B] is reduced over R into y [A, B] (sum, or mean).
// Written here rather than with oneDNN's reduction primitive, which measured 10x slower for the
// [N·H·W, C] → [C] shape of bias and BatchNorm gradients. Sums accumulate in double; with more rows
// than outputs the rows are split into one chunk per thread and the chunks added in order, so the
// result depends on the thread count only, never on scheduling.
constexpr size_t kReduceParams = 4;

void reduceRows(const float *x, float *y, int64_t na, int64_t nr, int64_t nb, bool mean) {
  const double scale = mean ? 1.0 / static_cast<double>(nr) : 1.0;
  const int64_t total = na * nr * nb;
  const int threads = omp_get_max_threads();
  if (na >= threads || total < (1 << 15)) {
#pragma omp parallel for schedule(static) if (total >= (1 << 15))
    for (int64_t a = 0; a < na; a++) {
      std::vector<double> acc(nb, 0.0);
      const float *xa = x + a * nr * nb;
      for (int64_t r = 0; r < nr; r++) {
        const float *row = xa + r * nb;
        for (int64_t b = 0; b < nb; b++) acc[b] += row[b];
      }
      for (int64_t b = 0; b < nb; b++) y[a * nb + b] = static_cast<float>(acc[b] * scale);
    }
    return;
  }
  const int64_t chunks = threads;
  std::vector<double> partial(chunks * na * nb, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < chunks; t++) {
    const int64_t r0 = nr * t / chunks, r1 = nr * (t + 1) / chunks;
    double *acc = partial.data() + t * na * nb;
    for (int64_t a = 0; a < na; a++) {
      for (int64_t r = r0; r < r1; r++) {
        const float *row = x + (a * nr + r) * nb;
        double *out = acc + a * nb;
        for (int64_t b = 0; b < nb; b++) out[b] += row[b];
      }
    }
  }
  for (int64_t i = 0; i < na * nb; i++) {
    double v = 0;
    for (int64_t t = 0; t < chunks; t++) v += partial[t * na * nb + i];
    y[i] = static_cast<float>(v * scale);
  }
}

napi_value Reduce(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, kReduceParams + 2, "reduce(heap, Int32Array[6]) expected")) return nullptr;
  const int32_t *off = a.p + kReduceParams;
  reduceRows(a.heap + off[0], a.heap + off[1], a.p[0], a.p[1], a.p[2], a.p[3] != 0);
  return boolean(env, true);
}

}  // namespace cv
