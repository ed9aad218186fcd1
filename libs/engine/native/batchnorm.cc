// Batch normalisation in plain C++ over OpenMP: inference-mode normalisation and the fused training-mode
// forward and backward passes.
#include "addon.hpp"

namespace cv {

// The activation fused after the normalisation (p[8] where given; 8 parameters: none). Forward and gradient
// use the same expressions as the separate kernels (Unary relu, Swish, SwishGrad), so fusing changes no value.
enum TrainAct { kActLinear = 0, kActRelu = 1, kActSwish = 2 };

// y = act(x·mul + add) per channel over rows of c channels (kActLinear: the normalisation alone, either mode).
template <int Act>
void affineActRows(const float *x, float *y, int64_t rows, int64_t c, const float *mul, const float *add) {
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *xr = x + r * c;
    float *yr = y + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) {
      const float z = xr[j] * mul[j] + add[j];
      yr[j] = Act == kActRelu ? (z < 0.f ? 0.f : z) : Act == kActSwish ? z * sigmoidApprox(z) : z;
    }
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
  affineActRows<kActLinear>(x, y, n / c, c, mul.data(), add.data());
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

inline bool readTrainArgs(napi_env env, napi_callback_info info, Args &a, size_t count, int &act, const char *usage) {
  if (readArgs(env, info, a) && (a.np == count || a.np == count + 1)) {
    act = a.np == count + 1 ? a.p[count] : kActLinear;
    if (act >= kActLinear && act <= kActSwish) return true;
  }
  napi_throw_type_error(env, nullptr, usage);
  return false;
}

// The normalisation as z = x·mul + add from float batch statistics (the fused-activation path, both directions).
inline void normAffine(float gamma, float beta, float mean, float var, float eps, float &mul, float &add) {
  mul = static_cast<float>(gamma / std::sqrt(static_cast<double>(var) + eps));
  add = static_cast<float>(beta - static_cast<double>(mean) * mul);
}

// p: R C | off: x gamma beta y mean var | [act]; alpha = epsilon. y = act(batchnorm(x)).
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  Args a;
  int act = kActLinear;
  if (!readTrainArgs(env, info, a, 8, act, "batchNormTrain(heap, Int32Array[8 or 9: + act 0 linear/1 relu/2 swish], eps) expected")) return nullptr;
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
    // With an activation the gradient recomputes z from the stored (float) statistics: use those here too.
    if (act != kActLinear) normAffine(gamma[j], beta[j], mean[j], var[j], a.alpha, mul[j], add[j]);
  }
  if (act == kActRelu) affineActRows<kActRelu>(x, y, rows, c, mul.data(), add.data());
  else if (act == kActSwish) affineActRows<kActSwish>(x, y, rows, c, mul.data(), add.data());
  else affineActRows<kActLinear>(x, y, rows, c, mul.data(), add.data());
  return boolean(env, true);
}

// dz = dy·act'(z) at z = x·mul + add (the separate kernels' expressions: Step for relu, SwishGrad's for swish).
template <int Act>
inline float actGrad(float dy, float x, float mul, float add) {
  if (Act == kActLinear) return dy;
  const float z = x * mul + add;
  if (Act == kActRelu) return dy * (z > 0.f ? 1.f : 0.f);
  const float s = sigmoidApprox(z);
  return dy * s * (1.f + z * (1.f - s));
}

// Σ dz and Σ dz·(x − mean) per channel, writing dz to `dz` (which may be dx: the second pass overwrites it).
template <int Act>
void gradSums(int64_t rows, int64_t c, const float *dy, const float *x, const float *mean, const float *mul, const float *add, float *dz,
              std::vector<double> &sumDz, std::vector<double> &sumDzXc) {
  channelSums(
      rows, c, sumDz, sumDzXc,
      [&](int64_t r, int64_t j) {
        const int64_t i = r * c + j;
        const float d = actGrad<Act>(dy[i], x[i], mul[j], add[j]);
        if (Act != kActLinear) dz[i] = d;
        return d;
      },
      [&](int64_t r, int64_t j) {
        const int64_t i = r * c + j;
        return (Act == kActLinear ? dy[i] : dz[i]) * (x[i] - mean[j]);
      });
}

// p: R C | off: dy x mean var gamma dx dgamma dbeta | [act, beta]; alpha = epsilon. With an activation, the
// gradient goes through it first (z recomputed from x, gamma, beta and the batch statistics).
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  Args a;
  bool withAct = false;
  if (readArgs(env, info, a) && (a.np == 10 || a.np == 12)) withAct = a.np == 12;
  else {
    napi_throw_type_error(env, nullptr, "batchNormTrainGrad(heap, Int32Array[10 or 12: + act, beta], eps) expected");
    return nullptr;
  }
  const int act = withAct ? a.p[10] : kActLinear;
  if (act < kActLinear || act > kActSwish) {
    napi_throw_type_error(env, nullptr, "batchNormTrainGrad: act must be 0 linear, 1 relu or 2 swish");
    return nullptr;
  }
  const int64_t rows = a.p[0], c = a.p[1];
  const float *dy = a.heap + a.p[2], *x = a.heap + a.p[3], *mean = a.heap + a.p[4], *var = a.heap + a.p[5];
  const float *gamma = a.heap + a.p[6];
  float *dx = a.heap + a.p[7], *dgamma = a.heap + a.p[8], *dbeta = a.heap + a.p[9];
  // The forward pass's normalisation, to recompute z (the same float expressions as BatchNormTrain).
  std::vector<float> mul(c), add(c);
  if (act != kActLinear) {
    const float *beta = a.heap + a.p[11];
    for (int64_t j = 0; j < c; j++) normAffine(gamma[j], beta[j], mean[j], var[j], a.alpha, mul[j], add[j]);
  }
  std::vector<double> sumDy, sumDyXc;  // Σ dz, Σ dz·(x − mean); dz = dy without an activation
  if (act == kActRelu) gradSums<kActRelu>(rows, c, dy, x, mean, mul.data(), add.data(), dx, sumDy, sumDyXc);
  else if (act == kActSwish) gradSums<kActSwish>(rows, c, dy, x, mean, mul.data(), add.data(), dx, sumDy, sumDyXc);
  else gradSums<kActLinear>(rows, c, dy, x, mean, mul.data(), add.data(), dx, sumDy, sumDyXc);
  const float *dz = act == kActLinear ? dy : dx;
  // dx = γ·σ⁻¹ · (dz − Σdz/N − x̂·Σ(dz·x̂)/N), x̂ = (x − μ)·σ⁻¹: as dx = k·dz + q·x + b per channel.
  std::vector<float> k(c), q(c), b(c);
  for (int64_t j = 0; j < c; j++) {
    const double inv = 1.0 / std::sqrt(static_cast<double>(var[j]) + a.alpha);
    const double g = gamma[j] * inv;
    const double dyXhat = sumDyXc[j] * inv;  // Σ dz·x̂
    dgamma[j] = static_cast<float>(dyXhat);
    dbeta[j] = static_cast<float>(sumDy[j]);
    const double qq = -g * inv * dyXhat / rows;
    k[j] = static_cast<float>(g);
    q[j] = static_cast<float>(qq);
    b[j] = static_cast<float>(-g * sumDy[j] / rows - qq * mean[j]);
  }
#pragma omp parallel for schedule(static) if (rows * c >= kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *dr = dz + r * c, *xr = x + r * c;
    float *out = dx + r * c;
#pragma omp simd
    for (int64_t j = 0; j < c; j++) out[j] = k[j] * dr[j] + q[j] * xr[j] + b[j];
  }
  return boolean(env, true);
}

}  // namespace cv
