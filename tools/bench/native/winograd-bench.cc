// The detector's 3×3 stride-1 convolution shapes (batch 16), f32, on 2 threads: oneDNN's direct convolution on the
// engine's NHWC tensors against its Winograd F(4×4, 3×3) convolution, which takes blocked (nChw16c) tensors only, so
// its time includes the reorders NHWC → blocked of what it reads and blocked → NHWC of what it writes. Forward, input
// gradient and filter gradient.
//
//   g++ -O2 tools/bench/native/winograd-bench.cc -ldnnl -o /tmp/winograd-bench && OMP_NUM_THREADS=2 /tmp/winograd-bench
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

static double seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

static memory filled(const memory::desc &d, const engine &eng, float v) {
  memory m(d, eng);
  std::fill(static_cast<float *>(m.get_data_handle()), static_cast<float *>(m.get_data_handle()) + d.get_size() / 4, v);
  return m;
}

// Milliseconds per call of `run` (3 warm-up calls, then the mean of 30).
template <class F> static double timed(F run) {
  for (int i = 0; i < 3; i++) run();
  const double t0 = seconds();
  for (int i = 0; i < 30; i++) run();
  return (seconds() - t0) / 30 * 1e3;
}

int main() {
  engine eng(engine::kind::cpu, 0);
  stream st(eng);
  const int n = 16;
  const int shapes[][3] = {{80, 16, 16}, {40, 32, 32}, {40, 64, 32}, {20, 64, 64}, {20, 128, 64}, {10, 128, 128}, {5, 256, 256}};
  std::printf("| H×W | in → out channels | mode | direct, NHWC (ms) | Winograd + reorders (ms) | ratio |\n| --- | --- | --- | ---: | ---: | ---: |\n");
  for (const auto &s : shapes) {
    const int h = s[0], c = s[1], o = s[2];
    const memory::dims src{n, c, h, h}, wei{o, c, 3, 3}, dst{n, o, h, h}, strides{1, 1}, pad{1, 1};
    const memory::desc xNhwc(src, dt::f32, tag::nhwc), yNhwc(dst, dt::f32, tag::nhwc), wPlain(wei, dt::f32, tag::ohwi);
    memory x = filled(xNhwc, eng, 0.5f), y = filled(yNhwc, eng, 0.25f), dx = filled(xNhwc, eng, 0), dy = filled(yNhwc, eng, 0.1f),
           dw = filled(wPlain, eng, 0);
    for (const char mode : {'f', 'd', 'w'}) {
      double ms[2];
      for (int v = 0; v < 2; v++) {
        const tag t = v ? tag::any : tag::nhwc;
        const algorithm alg = v ? algorithm::convolution_winograd : algorithm::convolution_direct;
        const memory::desc sd(src, dt::f32, t), dd(dst, dt::f32, t), wd(wei, dt::f32, tag::any);
        convolution_forward::primitive_desc fwd(convolution_forward::desc(prop_kind::forward_training, alg, sd, wd, dd, strides, pad, pad), eng);
        if (mode == 'f') {
          memory w = filled(fwd.weights_desc(), eng, 0.01f), xb = v ? memory(fwd.src_desc(), eng) : x, yb = v ? memory(fwd.dst_desc(), eng) : y;
          convolution_forward conv(fwd);
          reorder in = v ? reorder(x, xb) : reorder(), out = v ? reorder(yb, y) : reorder();
          ms[v] = timed([&] {
            if (v) in.execute(st, x, xb);
            conv.execute(st, {{DNNL_ARG_SRC, xb}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, yb}});
            if (v) out.execute(st, yb, y);
            st.wait();
          });
        } else if (mode == 'd') {
          convolution_backward_data::primitive_desc pd(convolution_backward_data::desc(alg, sd, wd, dd, strides, pad, pad), eng, fwd);
          memory w = filled(pd.weights_desc(), eng, 0.01f), dyb = v ? memory(pd.diff_dst_desc(), eng) : dy, dxb = v ? memory(pd.diff_src_desc(), eng) : dx;
          convolution_backward_data conv(pd);
          reorder in = v ? reorder(dy, dyb) : reorder(), out = v ? reorder(dxb, dx) : reorder();
          ms[v] = timed([&] {
            if (v) in.execute(st, dy, dyb);
            conv.execute(st, {{DNNL_ARG_DIFF_DST, dyb}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DIFF_SRC, dxb}});
            if (v) out.execute(st, dxb, dx);
            st.wait();
          });
        } else {
          convolution_backward_weights::primitive_desc pd(convolution_backward_weights::desc(alg, sd, wd, dd, strides, pad, pad), eng, fwd);
          memory xb = v ? memory(pd.src_desc(), eng) : x, dyb = v ? memory(pd.diff_dst_desc(), eng) : dy, dwb(pd.diff_weights_desc(), eng);
          convolution_backward_weights conv(pd);
          reorder inX = v ? reorder(x, xb) : reorder(), inY = v ? reorder(dy, dyb) : reorder(), out(dwb, dw);
          ms[v] = timed([&] {
            if (v) inX.execute(st, x, xb), inY.execute(st, dy, dyb);
            conv.execute(st, {{DNNL_ARG_SRC, xb}, {DNNL_ARG_DIFF_DST, dyb}, {DNNL_ARG_DIFF_WEIGHTS, dwb}});
            out.execute(st, dwb, dw);
            st.wait();
          });
        }
      }
      const char *name = mode == 'f' ? "forward" : mode == 'd' ? "input gradient" : "filter gradient";
      std::printf("| %d×%d | %d → %d | %s | %.2f | %.2f | %.2f× |\n", h, h, c, o, name, ms[0], ms[1], ms[0] / ms[1]);
    }
  }
}
