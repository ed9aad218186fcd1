// Memory-bound kernels in plain C++ over OpenMP: reductions, elementwise ops, batch-norm normalisation,
// nearest-upsampling gradient, concat / split, fused training-mode batch norm and swish, Adam.
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

// ---- Elementwise, batch norm, resize gradient, concat / split -----------------------------------------
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

// y = x·mul + add per channel over rows of c channels (batch norm's normalisation, either mode).
void affineRows(const float *x, float *y, int64_t rows, int64_t c, const float *mul, const float *add) {
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) yr[j] = xr[j] * mul[j] + add[j];
  }
}

// y = (x - mean) / sqrt(var + eps) * scale + offset over the last axis of c channels.
// p: n c | off: x mean var offset(-1) scale(-1) y; alpha = eps.
napi_value BatchNorm(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 8, "batchNorm(heap, Int32Array[8], eps) expected")) return nullptr;
  const int64_t n = a.p[0], c = a.p[1];
  const float *x = a.heap + a.p[2], *mean = a.heap + a.p[3], *var = a.heap + a.p[4];
  const float *offset = a.p[5] >= 0 ? a.heap + a.p[5] : nullptr;
  const float *scale = a.p[6] >= 0 ? a.heap + a.p[6] : nullptr;
  float *y = a.heap + a.p[7];
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; j++) {
    // tfjs computes x·(scale·rsqrt(var+eps)) + (offset − mean·that): the same expression here.
    const float inv = 1.f / std::sqrt(var[j] + a.alpha);
    mul[j] = (scale ? scale[j] : 1.f) * inv;
    add[j] = (offset ? offset[j] : 0.f) - mean[j] * mul[j];
  }
  affineRows(x, y, n / c, c, mul.data(), add.data());
  return boolean(env, true);
}

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

// ---- Training-mode batch norm and swish, fused -------------------------------------------------------
// tfjs-layers trains BatchNormalization through moments + batchNorm and their autograd: ~25 passes over
// the activation per layer and step. These do it in two passes forward and two backward, with the same
// mathematics (biased batch variance, the gradient through the batch statistics). Per-channel sums are
// accumulated in double in one chunk of rows per thread, the chunks added in order (thread count decides
// the result, scheduling does not).

// Per-channel sums over R rows of C channels of two per-element terms, u = fu(row, j) and v = fv(row, j).
// Within a thread's chunk, blocks of kBlock rows are summed in float (vectorised across channels) and each
// block total is added in double.
template <typename FU, typename FV>
void channelSums(int64_t rows, int64_t c, std::vector<double> &su, std::vector<double> &sv, FU fu, FV fv) {
  constexpr int64_t kBlock = 32;
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), rows));
  std::vector<double> pu(chunks * c, 0.0), pv(chunks * c, 0.0);
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t t = 0; t < chunks; t++) {
    double *u = pu.data() + t * c, *v = pv.data() + t * c;
    std::vector<float> bu(c), bv(c);
    const int64_t r1 = rows * (t + 1) / chunks;
    for (int64_t r0 = rows * t / chunks; r0 < r1; r0 += kBlock) {
      std::fill(bu.begin(), bu.end(), 0.f);
      std::fill(bv.begin(), bv.end(), 0.f);
      float *fbu = bu.data(), *fbv = bv.data();
      for (int64_t r = r0; r < std::min(r1, r0 + kBlock); r++) {
#pragma omp simd
        for (int64_t j = 0; j < c; j++) {
          fbu[j] += fu(r, j);
          fbv[j] += fv(r, j);
        }
      }
      for (int64_t j = 0; j < c; j++) {
        u[j] += fbu[j];
        v[j] += fbv[j];
      }
    }
  }
  su.assign(c, 0.0);
  sv.assign(c, 0.0);
  for (int64_t t = 0; t < chunks; t++) {
    for (int64_t j = 0; j < c; j++) {
      su[j] += pu[t * c + j];
      sv[j] += pv[t * c + j];
    }
  }
}

// p: R C | off: x gamma beta y mean var; alpha = epsilon.
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 8, "batchNormTrain(heap, Int32Array[8], eps) expected")) return nullptr;
  const int64_t rows = a.p[0], c = a.p[1];
  const float *x = a.heap + a.p[2], *gamma = a.heap + a.p[3], *beta = a.heap + a.p[4];
  float *y = a.heap + a.p[5], *mean = a.heap + a.p[6], *var = a.heap + a.p[7];
  std::vector<double> sum, sumSq;
  // Shifted by the first row so that E[x²] − E[x]² does not cancel when |mean| ≫ std.
  std::vector<float> shift(x, x + c);
  const float *sh = shift.data();
  channelSums(rows, c, sum, sumSq, [&](int64_t r, int64_t j) { return x[r * c + j] - sh[j]; },
              [&](int64_t r, int64_t j) { const float d = x[r * c + j] - sh[j]; return d * d; });
  std::vector<float> mul(c), add(c);
  for (int64_t j = 0; j < c; j++) {
    const double ms = sum[j] / rows;  // mean of the shifted values
    const double m = ms + sh[j];
    const double vr = std::max(0.0, sumSq[j] / rows - ms * ms);
    mean[j] = static_cast<float>(m);
    var[j] = static_cast<float>(vr);
    mul[j] = static_cast<float>(gamma[j] / std::sqrt(vr + a.alpha));
    add[j] = static_cast<float>(beta[j] - m * mul[j]);
  }
  affineRows(x, y, rows, c, mul.data(), add.data());
  return boolean(env, true);
}

// p: R C | off: dy x mean var gamma dx dgamma dbeta; alpha = epsilon.
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  Args a;
  if (!readArgsOf(env, info, a, 10, "batchNormTrainGrad(heap, Int32Array[10], eps) expected")) return nullptr;
  const int64_t rows = a.p[0], c = a.p[1];
  const float *dy = a.heap + a.p[2], *x = a.heap + a.p[3], *mean = a.heap + a.p[4], *var = a.heap + a.p[5];
  const float *gamma = a.heap + a.p[6];
  float *dx = a.heap + a.p[7], *dgamma = a.heap + a.p[8], *dbeta = a.heap + a.p[9];
  std::vector<double> sumDy, sumDyXc;  // Σ dy, Σ dy·(x − mean)
  channelSums(rows, c, sumDy, sumDyXc, [&](int64_t r, int64_t j) { return dy[r * c + j]; },
              [&](int64_t r, int64_t j) { return dy[r * c + j] * (x[r * c + j] - mean[j]); });
  // dx = γ·σ⁻¹ · (dy − Σdy/N − x̂·Σ(dy·x̂)/N), x̂ = (x − μ)·σ⁻¹: as dx = k·dy + q·x + b per channel.
  std::vector<float> k(c), q(c), b(c);
  for (int64_t j = 0; j < c; j++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[j]) + a.alpha);
    const double g = gamma[j] * inv;
    const double dyXhat = sumDyXc[j] * inv;  // Σ dy·x̂
    dgamma[j] = static_cast<float>(dyXhat);
    dbeta[j] = static_cast<float>(sumDy[j]);
    const double qq = -g * inv * dyXhat / rows;
    k[j] = static_cast<float>(g);
    q[j] = static_cast<float>(qq);
    b[j] = static_cast<float>(-g * sumDy[j] / rows - qq * mean[j]);
  }
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *dr = dy + r * c, *xr = x + r * c;
    float *out = dx + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) out[j] = k[j] * dr[j] + q[j] * xr[j] + b[j];
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
