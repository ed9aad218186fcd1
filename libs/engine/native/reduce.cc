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

// sumSquares(heap, Int32Array [count, off_0, n_0, …, off_{count-1}, n_{count-1}, out]): heap[out] = Σ over the
// count float arrays of Σ x² (gradient clipping's global norm). Each array is cut into fixed blocks of kBlockElems
// elements summed in double in parallel, the blocks then added in order: the result does not depend on the
// thread count.
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a;
  if (!readRecordArgs(env, info, a, 1, 2, 1, "sumSquares(heap, Int32Array[count, (offset, length) × count, out]) expected"))
    return nullptr;
  const int64_t count = a.p[0];
  const auto len = [&](int64_t t) { return static_cast<int64_t>(a.p[2 + 2 * t]); };
  std::vector<double> partial(blockStarts(count, len)[count], 0.0);
  forEachBlock(
      count, len,
      [&](int64_t t, int64_t k, int64_t i0, int64_t i1) {
        const float *x = a.heap + a.p[1 + 2 * t];
        double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // eight running sums: no chain of dependent adds, vectorisable
        int64_t i = i0;
        for (; i + 8 <= i1; i += 8) {
#pragma omp simd
          for (int l = 0; l < 8; l++) lane[l] += static_cast<double>(x[i + l]) * x[i + l];
        }
        double s = 0;
        for (; i < i1; i++) s += static_cast<double>(x[i]) * x[i];
        for (int l = 0; l < 8; l++) s += lane[l];
        partial[k] = s;
      });
  double sum = 0;
  for (double s : partial) sum += s;
  a.heap[a.p[1 + 2 * count]] = static_cast<float>(sum);
  return boolean(env, true);
}

}  // namespace cv
