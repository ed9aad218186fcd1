// Node-API addon: oneDNN kernels that compute directly on tfjs-backend-wasm's heap.
//
// Every entry takes the wasm heap (an ArrayBuffer, taken afresh by the caller at each call because the
// heap grows and older views detach), an Int32Array of shape parameters and element offsets (float
// index = byte offset / 4) of the tensors in that heap, and returns true when it ran, false when oneDNN
// has no implementation for the case (the caller then uses the wasm kernel). Tensors are NHWC (data)
// and HWIO / HWIGO (filters), the layouts tfjs uses; only filters are reordered, into the blocked layout
// oneDNN's convolutions prefer (conv.cc). Primitives are created once per shape and thread count and
// cached: creating one costs far more than running a small one.
//
// Files: addon.hpp (shared pieces), conv.cc (oneDNN primitives), memory-bound.cc (OpenMP loops), this
// file (threads, version, the export table).
#include "addon.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cv {

// ---- Threads and identity ---------------------------------------------------------------------------

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "setThreads(n) needs an integer n >= 1");
    return nullptr;
  }
  omp_set_num_threads(n);
  napi_value r;
  napi_create_int32(env, omp_get_max_threads(), &r);
  return r;
}

napi_value GetThreads(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_int32(env, omp_get_max_threads(), &r);
  return r;
}

napi_value Version(napi_env env, napi_callback_info) {
  const dnnl_version_t *v = dnnl_version();
  std::string s = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value r;
  napi_create_string_utf8(env, s.c_str(), s.size(), &r);
  return r;
}

napi_value CacheSize(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_uint32(env, static_cast<uint32_t>(cache().size()), &r);
  return r;
}

// Gives the C heap's free pages back to the system (glibc keeps freed memory in its arenas, e.g. after libvips
// decoded a large image on its threads). Returns whether anything was released; false where it does not apply.
napi_value MallocTrim(napi_env env, napi_callback_info) {
  bool released = false;
#if defined(__GLIBC__)
  released = malloc_trim(0) != 0;
#endif
  napi_value r;
  napi_get_boolean(env, released, &r);
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"convForward", nullptr, ConvForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardData", nullptr, ConvBackwardData, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convBackwardWeights", nullptr, ConvBackwardWeights, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"poolForward", nullptr, PoolForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"poolBackward", nullptr, PoolBackwardEntry, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNorm", nullptr, BatchNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"resizeNearestGrad", nullptr, ResizeNearestGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"concat", nullptr, Concat, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"split", nullptr, Split, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swish", nullptr, Swish, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swishGrad", nullptr, SwishGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamMany", nullptr, AdamMany, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"emaUpdate", nullptr, EmaUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"version", nullptr, Version, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"cacheSize", nullptr, CacheSize, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"mallocTrim", nullptr, MallocTrim, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"releaseFilter", nullptr, ReleaseFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fastBf16", nullptr, FastBf16, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphCreate", nullptr, GraphCreate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphRun", nullptr, GraphRun, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"graphRelease", nullptr, GraphRelease, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"pixelsToUnit", nullptr, PixelsToUnit, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumSquares", nullptr, SumSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"warpAffine", nullptr, WarpAffine, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"flipX", nullptr, FlipX, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hsvJitter", nullptr, HsvJitter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"bytesToUnit", nullptr, BytesToUnit, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace cv


NAPI_MODULE(NODE_GYP_MODULE_NAME, cv::Init)
