// Batch normalisation in plain C++ over OpenMP: inference-mode normalisation and the fused training-mode
// forward and backward passes.
#include "addon.hpp"

namespace cv {

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

}  // namespace cv
