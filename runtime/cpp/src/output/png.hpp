// PNG encoding and decoding with libpng, in memory: the formats Pillow writes for the result
// files (8-bit grey "L", 16-bit grey "I;16", 8-bit RGB).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace frozenseg::output {

// Row-major pixels; height * width (* 3 for RGB) samples.
std::vector<std::uint8_t> encode_png_gray8(std::span<const std::uint8_t> pixels, int height, int width);
std::vector<std::uint8_t> encode_png_gray16(std::span<const std::uint16_t> pixels, int height, int width);
std::vector<std::uint8_t> encode_png_rgb8(std::span<const std::uint8_t> pixels, int height, int width);

// A decoded PNG as stored: no gamma or palette conversion beyond expanding palettes to RGB.
struct DecodedPng {
  int width = 0;
  int height = 0;
  int channels = 0;   // 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA
  int bit_depth = 0;  // 8 or 16 (lower depths are expanded to 8)
  std::vector<std::uint16_t> samples;  // height * width * channels
};
// Throws Error(FS_INVALID_INPUT) for data that is not a PNG libpng can read.
DecodedPng decode_png(std::span<const std::uint8_t> bytes);

}  // namespace frozenseg::output
