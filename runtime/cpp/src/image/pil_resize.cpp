#include "image/pil_resize.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace frozenseg::image {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

// For each output pixel: the first source pixel, how many follow, and their fixed-point weights
// (`stride` slots per output pixel).
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<std::int32_t> weights;
  int stride = 0;
};

double triangle(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box [0, in_size) (as floats, the
// way Pillow's box arrives) sampled at out_size points.
Taps bilinear_taps(int in_size, int out_size) {
  const float in0 = 0.0f;
  const auto in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;  // the triangle's support is 1
  const int stride = static_cast<int>(std::ceil(support)) * 2 + 1;
  const double inv_filterscale = 1.0 / filterscale;

  Taps taps;
  taps.stride = stride;
  taps.first.resize(static_cast<std::size_t>(out_size));
  taps.count.resize(static_cast<std::size_t>(out_size));
  taps.weights.assign(static_cast<std::size_t>(out_size) * static_cast<std::size_t>(stride), 0);
  std::vector<double> k(static_cast<std::size_t>(stride));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = triangle((static_cast<double>(x + xmin) - center + 0.5) * inv_filterscale);
      k[static_cast<std::size_t>(x)] = w;
      ww += w;
    }
    std::int32_t* out = taps.weights.data() + static_cast<std::size_t>(xx) * stride;
    for (int x = 0; x < xmax; ++x) {
      double v = k[static_cast<std::size_t>(x)];
      if (ww != 0.0) v /= ww;
      out[x] = v < 0 ? static_cast<std::int32_t>(-0.5 + v * (1 << kPrecisionBits))
                     : static_cast<std::int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    taps.first[static_cast<std::size_t>(xx)] = xmin;
    taps.count[static_cast<std::size_t>(xx)] = xmax;
  }
  return taps;
}

inline std::uint8_t clip8(std::int32_t sum) {
  const std::int32_t v = sum >> kPrecisionBits;  // arithmetic shift (C++20)
  return static_cast<std::uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Rows [row0, row0 + rows) of `in` resized horizontally into `out` (rows x out_w x 3).
void horizontal_pass(const std::uint8_t* in, int in_w, int row0, int rows, const Taps& taps,
                     int out_w, std::uint8_t* out) {
  const std::size_t in_row = static_cast<std::size_t>(in_w) * 3;
  const std::size_t out_row = static_cast<std::size_t>(out_w) * 3;
  for (int y = 0; y < rows; ++y) {
    const std::uint8_t* line = in + static_cast<std::size_t>(row0 + y) * in_row;
    std::uint8_t* o = out + static_cast<std::size_t>(y) * out_row;
    for (int xx = 0; xx < out_w; ++xx, o += 3) {
      const std::int32_t* k = taps.weights.data() + static_cast<std::size_t>(xx) * taps.stride;
      const std::uint8_t* p = line + static_cast<std::size_t>(taps.first[xx]) * 3;
      std::int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0, n = taps.count[xx]; x < n; ++x, p += 3) {
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      o[0] = clip8(s0);
      o[1] = clip8(s1);
      o[2] = clip8(s2);
    }
  }
}

// `in` (w x 3 per row) resized vertically; taps.first is relative to `in`'s first row.
void vertical_pass(const std::uint8_t* in, int w, const Taps& taps, int out_h, std::uint8_t* out) {
  const std::size_t row = static_cast<std::size_t>(w) * 3;
  std::vector<std::int32_t> sums(row);
  for (int yy = 0; yy < out_h; ++yy) {
    const std::int32_t* k = taps.weights.data() + static_cast<std::size_t>(yy) * taps.stride;
    sums.assign(row, 1 << (kPrecisionBits - 1));
    const std::uint8_t* first = in + static_cast<std::size_t>(taps.first[yy]) * row;
    for (int y = 0, n = taps.count[yy]; y < n; ++y) {
      const std::uint8_t* line = first + static_cast<std::size_t>(y) * row;
      const std::int32_t weight = k[y];
      for (std::size_t i = 0; i < row; ++i) sums[i] += line[i] * weight;
    }
    std::uint8_t* o = out + static_cast<std::size_t>(yy) * row;
    for (std::size_t i = 0; i < row; ++i) o[i] = clip8(sums[i]);
  }
}

// Pillow 13 runs the vertical pass first when the height shrinks by more than twice what the
// width shrinks (its ImagingResampleInner, for a full-image box); the order changes the uint8
// rounding between the passes, so it must be the same.
bool vertical_first(int in_h, int out_h, int in_w, int out_w) {
  const int shrink_h = in_h - out_h;
  return shrink_h > 0 && shrink_h > 2 * (in_w - out_w);
}

}  // namespace

RgbImage pil_resize_bilinear(const RgbImage& image, int height, int width) {
  if (image.empty()) fail_argument("expected a non-empty image to resize, received 0 x 0");
  if (height < 1 || width < 1) {
    fail_argument("expected a positive size to resize to, received " + std::to_string(height) +
                  " x " + std::to_string(width) + " (height x width)");
  }
  if (height == image.height() && width == image.width()) return image;

  const bool horizontal = width != image.width();
  const bool vertical = height != image.height();
  RgbImage out(height, width);
  if (!horizontal) {
    vertical_pass(image.data(), width, bilinear_taps(image.height(), height), height, out.data());
    return out;
  }
  const Taps htaps = bilinear_taps(image.width(), width);
  if (!vertical) {
    horizontal_pass(image.data(), image.width(), 0, height, htaps, width, out.data());
    return out;
  }
  Taps vtaps = bilinear_taps(image.height(), height);
  if (vertical_first(image.height(), height, image.width(), width)) {
    std::vector<std::uint8_t> temp(static_cast<std::size_t>(height) * image.width() * 3);
    vertical_pass(image.data(), image.width(), vtaps, height, temp.data());
    horizontal_pass(temp.data(), image.width(), 0, height, htaps, width, out.data());
    return out;
  }
  // The source rows the vertical pass reads.
  const int row_first = vtaps.first.front();
  const int row_last = vtaps.first.back() + vtaps.count.back();
  std::vector<std::uint8_t> temp(static_cast<std::size_t>(row_last - row_first) * width * 3);
  horizontal_pass(image.data(), image.width(), row_first, row_last - row_first, htaps, width,
                  temp.data());
  for (int& first : vtaps.first) first -= row_first;
  vertical_pass(temp.data(), width, vtaps, height, out.data());
  return out;
}

}  // namespace frozenseg::image
