#include "image/resize_bilinear.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include "common/error.hpp"

namespace frozenseg::image {

namespace {

struct AxisTaps {
  std::vector<int> i0;
  std::vector<int> i1;
  std::vector<float> lam0;
  std::vector<float> lam1;
};

// ops.py _source_taps.
AxisTaps source_taps(int in_size, int out_size) {
  AxisTaps t;
  t.i0.resize(static_cast<std::size_t>(out_size));
  t.i1.resize(static_cast<std::size_t>(out_size));
  t.lam0.resize(static_cast<std::size_t>(out_size));
  t.lam1.resize(static_cast<std::size_t>(out_size));
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  for (int dst = 0; dst < out_size; ++dst) {
    const double exact = static_cast<double>(scale) * (static_cast<double>(dst) + 0.5) - 0.5;
    float src = static_cast<float>(exact);
    src = std::max(src, 0.0f);
    auto i0 = static_cast<std::int64_t>(std::floor(src));
    i0 = std::min<std::int64_t>(i0, in_size - 1);
    const std::int64_t i1 = std::min<std::int64_t>(i0 + 1, in_size - 1);
    const float lam1 = src - static_cast<float>(i0);
    const auto k = static_cast<std::size_t>(dst);
    t.i0[k] = static_cast<int>(i0);
    t.i1[k] = static_cast<int>(i1);
    t.lam1[k] = lam1;
    t.lam0[k] = 1.0f - lam1;
  }
  return t;
}

// dst[x] = src[i0[x]] * l0[x] + src[i1[x]] * l1[x]: one row of the width pass.
void blend_columns(const float* __restrict src, const int* __restrict i0, const int* __restrict i1,
                   const float* __restrict l0, const float* __restrict l1, float* __restrict dst,
                   int n) {
  for (int x = 0; x < n; ++x) {
    const float a = src[i0[x]] * l0[x];
    const float b = src[i1[x]] * l1[x];
    dst[x] = a + b;
  }
}

// dst[x] = r0[x] * l0 + r1[x] * l1: one row of the height pass (vectorised).
void blend_rows(const float* __restrict r0, const float* __restrict r1, float l0, float l1,
                float* __restrict dst, std::size_t n) {
  for (std::size_t x = 0; x < n; ++x) {
    const float a = r0[x] * l0;
    const float b = r1[x] * l1;
    dst[x] = a + b;
  }
}

struct Plan {
  int in_h, in_w, out_h, out_w;
  std::size_t plane_stride, row_stride;  // of the input, in floats
  AxisTaps x, y;                         // taps of the axes that change size
};

// One plane: width pass into `scratch` (in_h x out_w) unless the width stays, then the height
// pass (or a copy) into `out`.
void resize_plane(const Plan& p, const float* in, float* scratch, float* out) {
  const float* rows = in;
  std::size_t rows_stride = p.row_stride;
  if (p.out_w != p.in_w) {
    for (int r = 0; r < p.in_h; ++r) {
      blend_columns(in + static_cast<std::size_t>(r) * p.row_stride, p.x.i0.data(), p.x.i1.data(),
                    p.x.lam0.data(), p.x.lam1.data(),
                    scratch + static_cast<std::size_t>(r) * p.out_w, p.out_w);
    }
    rows = scratch;
    rows_stride = static_cast<std::size_t>(p.out_w);
  }
  const std::size_t row = static_cast<std::size_t>(p.out_w);
  if (p.out_h == p.in_h) {
    for (int y = 0; y < p.out_h; ++y) {
      std::memcpy(out + static_cast<std::size_t>(y) * row,
                  rows + static_cast<std::size_t>(y) * rows_stride, sizeof(float) * row);
    }
    return;
  }
  for (int y = 0; y < p.out_h; ++y) {
    blend_rows(rows + static_cast<std::size_t>(p.y.i0[y]) * rows_stride,
               rows + static_cast<std::size_t>(p.y.i1[y]) * rows_stride, p.y.lam0[y], p.y.lam1[y],
               out + static_cast<std::size_t>(y) * row, row);
  }
}

void resize_planes(const Plan& p, const float* in, float* out, std::size_t first, std::size_t last) {
  const std::size_t in_plane = p.plane_stride;
  const std::size_t out_plane = static_cast<std::size_t>(p.out_h) * p.out_w;
  std::vector<float> scratch(p.out_w != p.in_w ? static_cast<std::size_t>(p.in_h) * p.out_w : 0);
  for (std::size_t c = first; c < last; ++c) {
    resize_plane(p, in + c * in_plane, scratch.data(), out + c * out_plane);
  }
}

void check_positive(int in_h, int in_w, int out_h, int out_w) {
  if (in_h <= 0 || in_w <= 0) {
    fail_argument("expected an input of positive height and width, received " +
                  std::to_string(in_h) + " x " + std::to_string(in_w));
  }
  if (out_h <= 0 || out_w <= 0) {
    fail_argument("size must be positive, got (" + std::to_string(out_h) + ", " +
                  std::to_string(out_w) + ")");
  }
}

void check_sizes(std::size_t input_size, std::size_t planes, int in_h, int in_w,
                 std::size_t output_size, int out_h, int out_w) {
  check_positive(in_h, in_w, out_h, out_w);
  const std::size_t want_in = planes * static_cast<std::size_t>(in_h) * static_cast<std::size_t>(in_w);
  if (input_size != want_in) {
    fail_argument("expected " + std::to_string(planes) + " planes of " + std::to_string(in_h) +
                  " x " + std::to_string(in_w) + " = " + std::to_string(want_in) +
                  " floats, received " + std::to_string(input_size));
  }
  const std::size_t want_out =
      planes * static_cast<std::size_t>(out_h) * static_cast<std::size_t>(out_w);
  if (output_size != want_out) {
    fail_argument("expected an output of " + std::to_string(planes) + " planes of " +
                  std::to_string(out_h) + " x " + std::to_string(out_w) + " = " +
                  std::to_string(want_out) + " floats, received " + std::to_string(output_size));
  }
}

}  // namespace

void resize_bilinear_strided(const float* input, std::size_t planes, std::size_t plane_stride,
                             std::size_t row_stride, int in_h, int in_w, float* output, int out_h,
                             int out_w, unsigned threads) {
  check_positive(in_h, in_w, out_h, out_w);
  if (row_stride < static_cast<std::size_t>(in_w) ||
      (planes > 1 && plane_stride < (static_cast<std::size_t>(in_h) - 1) * row_stride +
                                        static_cast<std::size_t>(in_w))) {
    fail_argument("expected strides that keep rows and planes apart (row stride >= " +
                  std::to_string(in_w) + ", plane stride >= the rows it holds), received row "
                  "stride " + std::to_string(row_stride) + " and plane stride " +
                  std::to_string(plane_stride));
  }
  if (planes == 0) return;
  if (input == nullptr || output == nullptr) {
    fail_argument("expected input and output buffers, received a null pointer");
  }
  Plan plan{in_h, in_w, out_h, out_w, plane_stride, row_stride, {}, {}};
  if (out_w != in_w) plan.x = source_taps(in_w, out_w);
  if (out_h != in_h) plan.y = source_taps(in_h, out_h);

  const std::size_t workers = std::clamp<std::size_t>(threads, 1, planes);
  if (workers == 1) {
    resize_planes(plan, input, output, 0, planes);
    return;
  }
  std::vector<std::exception_ptr> failures(workers);
  {
    std::vector<std::jthread> pool;  // joined when the block ends, also when a start fails
    pool.reserve(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      const std::size_t first = planes * w / workers;
      const std::size_t last = planes * (w + 1) / workers;
      pool.emplace_back([&plan, input, output, &failures, w, first, last] {
        try {
          resize_planes(plan, input, output, first, last);
        } catch (...) {
          failures[w] = std::current_exception();  // a scratch buffer that could not be had
        }
      });
    }
  }
  for (const auto& failure : failures) {
    if (failure) std::rethrow_exception(failure);
  }
}

void resize_bilinear(std::span<const float> input, std::size_t planes, int in_h, int in_w,
                     std::span<float> output, int out_h, int out_w, unsigned threads) {
  check_sizes(input.size(), planes, in_h, in_w, output.size(), out_h, out_w);
  const std::size_t plane = static_cast<std::size_t>(in_h) * static_cast<std::size_t>(in_w);
  resize_bilinear_strided(input.data(), planes, plane, static_cast<std::size_t>(in_w), in_h, in_w,
                          output.data(), out_h, out_w, threads);
}

std::vector<float> resize_bilinear(std::span<const float> input, std::size_t planes, int in_h,
                                   int in_w, int out_h, int out_w, unsigned threads) {
  if (out_h <= 0 || out_w <= 0) check_sizes(input.size(), planes, in_h, in_w, 0, out_h, out_w);
  std::vector<float> out(planes * static_cast<std::size_t>(std::max(out_h, 0)) *
                         static_cast<std::size_t>(std::max(out_w, 0)));
  resize_bilinear(input, planes, in_h, in_w, out, out_h, out_w, threads);
  return out;
}

}  // namespace frozenseg::image
