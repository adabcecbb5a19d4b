// Pictures of results: a coloured overlay with a legend of the class names present, as
// runtime/output/visualize.py draws it. Palette, blend and legend layout (boxes, their colours,
// order, canvas size) are Python's, pixel for pixel; the legend's text uses a built-in 5x7 font
// instead of Pillow's default font, and classes with equal pixel counts are listed by index
// (numpy's unstable argsort may order such ties differently).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace frozenseg::output {

// RGB, row-major, height * width * 3 bytes.
struct RgbView {
  const std::uint8_t* data = nullptr;
  int height = 0;
  int width = 0;
};
struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> pixels;
};

// n colours (at least one), as frozenseg_runtime.output.palette.palette(n): the first n triples of
// runtime/data/palette.rgb (modulo its 4096), compiled in from that file at build time.
std::vector<std::array<std::uint8_t, 3>> palette(int n);

// Blend `labels` (height * width indices into names; `ignore` left as is) over the image with
// weight alpha, then a 200-pixel legend to the right. Throws Error(FS_INVALID_ARGUMENT) when the
// sizes disagree.
RgbImage overlay(RgbView image, const std::vector<std::int64_t>& labels,
                 const std::vector<std::string>& names, double alpha = 0.55,
                 std::int64_t ignore = -1);

}  // namespace frozenseg::output
