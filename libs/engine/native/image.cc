// Training-time image augmentation on bytes: the random affine warp, the horizontal flip, the HSV jitter and the
// bytes → [0, 1] floats of a batch. Each is the JavaScript loop of libs/data/src/transforms.ts (and collate's
// unitRange) written again in the same double-precision arithmetic, in the same order, so the bytes written are
// the same (the data tests compare both on random images). Contraction of a·b + c into one fused multiply-add
// would round differently from JavaScript, so it is off in this file.
#include "addon.hpp"

#include <array>
#include <cmath>

#pragma GCC optimize("fp-contract=off")

namespace cv {

namespace {

// Reads argument i as a typed array of the expected type; false (and a TypeError) otherwise.
template <typename T>
bool typedArg(napi_env env, napi_value v, napi_typedarray_type want, T *&data, size_t &n) {
  napi_typedarray_type t;
  void *p = nullptr;
  napi_value ab;
  size_t off = 0;
  if (napi_get_typedarray_info(env, v, &t, &n, &p, &ab, &off) != napi_ok) return false;
  if (t != want && !(want == napi_uint8_array && t == napi_uint8_clamped_array)) return false;
  data = static_cast<T *>(p);
  return true;
}

// JavaScript's `(v) | 0` then a Uint8Array store: truncation toward zero, then modulo 256 (ToInt32, ToUint8).
inline uint8_t storeByte(double v) { return static_cast<uint8_t>(static_cast<int32_t>(v)); }

bool fail(napi_env env, const char *usage) {
  napi_throw_type_error(env, nullptr, usage);
  return false;
}

}  // namespace

// warpAffine(src: Uint8Array, dst: Uint8Array, srcMask: Uint8Array | null, dstMask: Uint8Array | null,
//            p: Float64Array [h, w, c, m00, m01, m10, m11, cx, cy, tx, ty, fill, ignore]):
// RandomAffine's inverse map of pixel centres, bilinear for the image (fill outside), nearest for the mask (ignore outside).
napi_value WarpAffine(napi_env env, napi_callback_info info) {
  const char *usage = "warpAffine(src, dst, srcMask | null, dstMask | null, Float64Array[13]) expected";
  size_t argc = 5;
  napi_value argv[5];
  const uint8_t *src = nullptr, *srcMask = nullptr;
  uint8_t *dst = nullptr, *dstMask = nullptr;
  const double *p = nullptr;
  size_t nSrc = 0, nDst = 0, nSrcMask = 0, nDstMask = 0, np = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 5) return fail(env, usage), nullptr;
  if (!typedArg(env, argv[0], napi_uint8_array, src, nSrc) || !typedArg(env, argv[1], napi_uint8_array, dst, nDst) ||
      !typedArg(env, argv[4], napi_float64_array, p, np) || np != 13)
    return fail(env, usage), nullptr;
  napi_valuetype mt;
  napi_typeof(env, argv[2], &mt);
  const bool withMask = mt != napi_null && mt != napi_undefined;
  if (withMask && (!typedArg(env, argv[2], napi_uint8_array, srcMask, nSrcMask) || !typedArg(env, argv[3], napi_uint8_array, dstMask, nDstMask)))
    return fail(env, usage), nullptr;
  const int64_t h = static_cast<int64_t>(p[0]), w = static_cast<int64_t>(p[1]), c = static_cast<int64_t>(p[2]);
  if (h <= 0 || w <= 0 || c <= 0 || nSrc != static_cast<size_t>(h * w * c) || nDst != nSrc ||
      (withMask && (nSrcMask != static_cast<size_t>(h * w) || nDstMask != nSrcMask))) {
    napi_throw_range_error(env, nullptr, "warpAffine: the arrays do not match h × w × c");
    return nullptr;
  }
  const double m00 = p[3], m01 = p[4], m10 = p[5], m11 = p[6], cx = p[7], cy = p[8], tx = p[9], ty = p[10];
  const double fill = p[11];
  const uint8_t ignore = static_cast<uint8_t>(p[12]);
  // Rows in parallel: every output byte depends on the source only (no sums), so the thread count changes nothing.
#pragma omp parallel for schedule(static) if (h * w * c >= kParallelMin)
  for (int64_t y = 0; y < h; y++) {
    const double v = static_cast<double>(y) + 0.5 - cy - ty;
    for (int64_t x = 0; x < w; x++) {
      const double u = static_cast<double>(x) + 0.5 - cx - tx;
      const double sx = m00 * u + m01 * v + cx;
      const double sy = m10 * u + m11 * v + cy;
      const double fx = sx - 0.5, fy = sy - 0.5;
      const double fx0 = std::floor(fx), fy0 = std::floor(fy);
      const double ax = fx - fx0, ay = fy - fy0;
      const double w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
      uint8_t *out = dst + (y * w + x) * c;
      if (fx0 >= 0 && fx0 + 1 < w && fy0 >= 0 && fy0 + 1 < h) {
        const int64_t x0 = static_cast<int64_t>(fx0), y0 = static_cast<int64_t>(fy0);
        const uint8_t *p00 = src + (y0 * w + x0) * c, *p10 = p00 + w * c;
        for (int64_t ch = 0; ch < c; ch++) out[ch] = storeByte(w00 * p00[ch] + w01 * p00[c + ch] + w10 * p10[ch] + w11 * p10[c + ch] + 0.5);
      } else {
        const bool in00 = fx0 >= 0 && fx0 < w && fy0 >= 0 && fy0 < h;
        const bool in01 = fx0 + 1 >= 0 && fx0 + 1 < w && fy0 >= 0 && fy0 < h;
        const bool in10 = fx0 >= 0 && fx0 < w && fy0 + 1 >= 0 && fy0 + 1 < h;
        const bool in11 = fx0 + 1 >= 0 && fx0 + 1 < w && fy0 + 1 >= 0 && fy0 + 1 < h;
        // Indices only where inside (the floor can be far outside for a large translation).
        const int64_t x0 = in00 || in10 ? static_cast<int64_t>(fx0) : 0, y0 = in00 || in01 ? static_cast<int64_t>(fy0) : 0;
        const int64_t x1 = in01 || in11 ? static_cast<int64_t>(fx0) + 1 : 0, y1 = in10 || in11 ? static_cast<int64_t>(fy0) + 1 : 0;
        for (int64_t ch = 0; ch < c; ch++) {
          const double v00 = in00 ? src[(y0 * w + x0) * c + ch] : fill;
          const double v01 = in01 ? src[(y0 * w + x1) * c + ch] : fill;
          const double v10 = in10 ? src[(y1 * w + x0) * c + ch] : fill;
          const double v11 = in11 ? src[(y1 * w + x1) * c + ch] : fill;
          out[ch] = storeByte(w00 * v00 + w01 * v01 + w10 * v10 + w11 * v11 + 0.5);
        }
      }
      if (withMask) {
        const double nx = std::floor(sx), ny = std::floor(sy);
        dstMask[y * w + x] = nx >= 0 && nx < w && ny >= 0 && ny < h ? srcMask[static_cast<int64_t>(ny) * w + static_cast<int64_t>(nx)] : ignore;
      }
    }
  }
  return boolean(env, true);
}

// flipX(src: Uint8Array, dst: Uint8Array, h, w, c): dst = src mirrored left–right (images: c channels; masks: c = 1).
napi_value FlipX(napi_env env, napi_callback_info info) {
  const char *usage = "flipX(src, dst, h, w, c) expected";
  size_t argc = 5;
  napi_value argv[5];
  const uint8_t *src = nullptr;
  uint8_t *dst = nullptr;
  size_t nSrc = 0, nDst = 0;
  int32_t h = 0, w = 0, c = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 5 || !typedArg(env, argv[0], napi_uint8_array, src, nSrc) ||
      !typedArg(env, argv[1], napi_uint8_array, dst, nDst) || napi_get_value_int32(env, argv[2], &h) != napi_ok ||
      napi_get_value_int32(env, argv[3], &w) != napi_ok || napi_get_value_int32(env, argv[4], &c) != napi_ok)
    return fail(env, usage), nullptr;
  if (h <= 0 || w <= 0 || c <= 0 || nSrc != static_cast<size_t>(h) * w * c || nDst != nSrc) {
    napi_throw_range_error(env, nullptr, "flipX: the arrays do not match h × w × c");
    return nullptr;
  }
  for (int64_t y = 0; y < h; y++) {
    const uint8_t *row = src + y * w * c;
    uint8_t *out = dst + y * w * c;
    for (int64_t x = 0; x < w; x++) std::memcpy(out + x * c, row + (w - 1 - x) * c, c);
  }
  return boolean(env, true);
}

// hsvJitter(src: Uint8Array, dst: Uint8Array, p: Float64Array [dh, ks, kv]): HsvJitter's per-pixel map of RGB bytes.
napi_value HsvJitter(napi_env env, napi_callback_info info) {
  const char *usage = "hsvJitter(src, dst, Float64Array[3]) expected";
  size_t argc = 3;
  napi_value argv[3];
  const uint8_t *src = nullptr;
  uint8_t *dst = nullptr;
  const double *p = nullptr;
  size_t nSrc = 0, nDst = 0, np = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3 || !typedArg(env, argv[0], napi_uint8_array, src, nSrc) ||
      !typedArg(env, argv[1], napi_uint8_array, dst, nDst) || !typedArg(env, argv[2], napi_float64_array, p, np) || np != 3)
    return fail(env, usage), nullptr;
  if (nSrc % 3 != 0 || nDst != nSrc) {
    napi_throw_range_error(env, nullptr, "hsvJitter: src and dst must be the same RGB length");
    return nullptr;
  }
  const double dh = p[0], ks = p[1], kv = p[2];
  // max(0, min(k, 4 − k, 1)) of the HSV → RGB formula, k = (n + h) mod 6
  auto channel = [](double val, double vs, double k) {
    const double m = k < 4 - k ? k : 4 - k;
    return storeByte(val - vs * (m < 0 ? 0 : m > 1 ? 1 : m) + 0.5);
  };
  const int64_t pixels = static_cast<int64_t>(nSrc / 3);
#pragma omp parallel for schedule(static) if (pixels * 3 >= kParallelMin)
  for (int64_t px = 0; px < pixels; px++) {
    const int64_t i = px * 3;
    const double r = src[i], g = src[i + 1], b = src[i + 2];
    const double max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const double min = r < g ? (r < b ? r : b) : g < b ? g : b;
    const double d = max - min;
    double hue = d == 0 ? 0 : max == r ? (g - b) / d + 6 : max == g ? (b - r) / d + 2 : (r - g) / d + 4;
    hue += dh;
    hue -= 6 * std::floor(hue / 6);
    const double val = max * kv > 255 ? 255 : max * kv;
    const double sr = max == 0 ? 0 : (d / max) * ks;
    const double sat = sr < 1 ? sr : 1;
    const double vs = val * sat;
    double k = 5 + hue;
    k = k >= 6 ? (k >= 12 ? k - 12 : k - 6) : k;
    dst[i] = channel(val, vs, k);
    k = 3 + hue;
    k = k >= 6 ? k - 6 : k;
    dst[i + 1] = channel(val, vs, k);
    k = 1 + hue;
    k = k >= 6 ? k - 6 : k;
    dst[i + 2] = channel(val, vs, k);
  }
  return boolean(env, true);
}

// bytesToUnit(dst: Float32Array, at, bytes: Uint8Array): dst[at + i] = bytes[i] / 255 as JavaScript rounds it
// (the double quotient stored as float32).
napi_value BytesToUnit(napi_env env, napi_callback_info info) {
  static const auto table = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; v++) t[v] = static_cast<float>(static_cast<double>(v) / 255.0);
    return t;
  }();
  const char *usage = "bytesToUnit(dst: Float32Array, at >= 0, bytes: Uint8Array) expected";
  size_t argc = 3;
  napi_value argv[3];
  float *dst = nullptr;
  const uint8_t *bytes = nullptr;
  size_t nDst = 0, n = 0;
  int32_t at = -1;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 3 || !typedArg(env, argv[0], napi_float32_array, dst, nDst) ||
      napi_get_value_int32(env, argv[1], &at) != napi_ok || at < 0 || !typedArg(env, argv[2], napi_uint8_array, bytes, n))
    return fail(env, usage), nullptr;
  if (static_cast<size_t>(at) + n > nDst) {
    napi_throw_range_error(env, nullptr, "bytesToUnit: the bytes do not fit in dst at that offset");
    return nullptr;
  }
  float *y = dst + at;
  for (size_t i = 0; i < n; i++) y[i] = table[bytes[i]];
  return boolean(env, true);
}

}  // namespace cv
