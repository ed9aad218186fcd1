// The detector's training convolutions (yolo-n at 160², batch 16: every shape of one step, with its count), f32
// against bf16 on 2 threads, NHWC direct convolutions with the operands already in their type (no conversion, warm
// caches): what the matrix units would give a training step whose activations were bf16 end to end. Forward (bf16
// reads, f32 output), input gradient (bf16 output gradient and filter, f32 result), filter gradient (bf16 input and
// output gradient, f32 result). Prints one row per shape and the sums per step.
//
//   g++ -O2 tools/bench/native/conv-precision-bench.cc -ldnnl -o /tmp/conv-precision-bench && OMP_NUM_THREADS=2 /tmp/conv-precision-bench
#include <dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
static double seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
static memory mk(const memory::desc &d, const engine &eng) { memory m(d, eng); std::memset(m.get_data_handle(), 0x3c, d.get_size()); return m; }
template <class F> static double timed(F run) { for (int i = 0; i < 3; i++) run(); const double t0 = seconds(); for (int i = 0; i < 30; i++) run(); return (seconds() - t0) / 30 * 1e3; }
int main() {
  engine eng(engine::kind::cpu, 0); stream st(eng); const int n = 16;
  // h, c, k, s, o, count per step
  const int shapes[][6] = {{20,64,3,1,64,4},{10,64,3,1,64,6},{20,32,3,1,32,3},{10,128,3,1,64,2},{20,64,1,1,64,3},{10,128,3,2,256,1},{10,384,1,1,64,2},{80,16,3,2,32,1},{160,3,3,2,16,1},{5,128,3,1,128,2},{20,192,1,1,32,2},{20,64,3,2,128,1},{40,32,3,2,64,1},{5,256,3,1,64,2},{5,384,1,1,128,2},{10,128,1,1,128,3},{40,32,1,1,16,2},{10,64,1,1,64,5},{5,256,1,1,128,2},{5,256,1,1,256,2},{10,128,3,2,128,1},{40,32,1,1,32,1},{5,64,3,1,64,2},{20,64,3,2,64,1},{10,192,1,1,64,2},{40,16,3,1,16,1},{20,64,1,1,32,2},{5,128,1,1,128,2},{20,32,1,1,32,3},{10,128,1,1,64,2},{40,16,1,1,16,1}};
  double tot[2][3] = {};
  for (auto &s : shapes) {
    const int h = s[0], c = s[1], k = s[2], str = s[3], o = s[4], cnt = s[5], oh = (h + str - 1) / str, p = k / 2;
    const int pr = (oh - 1) * str + k - h - p;  // 'same' right padding
    memory::dims src{n, c, h, h}, wei{o, c, k, k}, dst{n, o, oh, oh}, strides{str, str}, pl{p, p}, prr{pr, pr};
    double ms[2][3];
    for (int v = 0; v < 2; v++) {
      dt a = v ? dt::bf16 : dt::f32;
      memory::desc xs(src, a, tag::nhwc), ys32(dst, dt::f32, tag::nhwc), dys(dst, a, tag::nhwc), dxs(src, dt::f32, tag::nhwc), ws(wei, a, tag::any), dws(wei, dt::f32, tag::any);
      convolution_forward::primitive_desc fwd(convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, xs, ws, ys32, strides, pl, prr), eng);
      memory x = mk(xs, eng), w = mk(fwd.weights_desc(), eng), y = mk(ys32, eng);
      convolution_forward cf(fwd);
      ms[v][0] = timed([&] { cf.execute(st, {{DNNL_ARG_SRC, x}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, y}}); st.wait(); });
      convolution_backward_data::primitive_desc bd(convolution_backward_data::desc(algorithm::convolution_direct, dxs, ws, dys, strides, pl, prr), eng, fwd);
      memory dy = mk(dys, eng), dx = mk(dxs, eng), wd = mk(bd.weights_desc(), eng);
      convolution_backward_data cd(bd);
      ms[v][1] = timed([&] { cd.execute(st, {{DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, dx}}); st.wait(); });
      convolution_backward_weights::primitive_desc bw(convolution_backward_weights::desc(algorithm::convolution_direct, xs, dws, dys, strides, pl, prr), eng, fwd);
      memory dw = mk(bw.diff_weights_desc(), eng);
      convolution_backward_weights cw(bw);
      ms[v][2] = timed([&] { cw.execute(st, {{DNNL_ARG_SRC, x}, {DNNL_ARG_DIFF_DST, dy}, {DNNL_ARG_DIFF_WEIGHTS, dw}}); st.wait(); });
      if (c == 3 || (h == 20 && c == 64 && k == 3 && str == 1)) std::printf("  impl %s: %s / %s / %s\n", v ? "bf16" : "f32", fwd.impl_info_str(), bd.impl_info_str(), bw.impl_info_str());
      for (int j = 0; j < 3; j++) tot[v][j] += ms[v][j] * cnt;
    }
    std::printf("%3dx%-3d %3d k%d/s%d ->%3d x%d | f32 %.2f %.2f %.2f | bf16 %.2f %.2f %.2f\n", h, h, c, k, str, o, cnt, ms[0][0], ms[0][1], ms[0][2], ms[1][0], ms[1][1], ms[1][2]);
  }
  std::printf("per step: f32 %.1f / %.1f / %.1f = %.1f ms; bf16 %.1f / %.1f / %.1f = %.1f ms\n", tot[0][0], tot[0][1], tot[0][2], tot[0][0] + tot[0][1] + tot[0][2], tot[1][0], tot[1][1], tot[1][2], tot[1][0] + tot[1][1] + tot[1][2]);
}
