// Image loading, as the Python runtime's image/loading.py: a PNG or JPEG file (or its bytes) ->
// H x W x 3 uint8 RGB with the EXIF orientation applied, the same pixels Pillow gives
// (see png_decode.cpp, jpeg_decode.cpp, exif.hpp for what "the same" takes). Every refusal is
// frozenseg::Error(FS_INVALID_INPUT) saying what was expected, what came and how to fix it; a
// bad LoadOptions value is FS_INVALID_ARGUMENT. The pixel limit is checked on the header, before
// any pixel is decoded (a small PNG can declare 30000 x 30000 pixels: a decompression bomb).
//
// Only PNG and JPEG are read (the Python runtime also reads WebP and BMP through Pillow); other
// formats are refused with a message that says so. Thread-safe: calls share no state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>

#include "image/image.hpp"

namespace frozenseg::image {

// Pillow's own refusal threshold (twice its warning threshold), about 13,400 x 13,400 pixels:
// the Python runtime's MAX_IMAGE_PIXELS.
inline constexpr std::uint64_t kDefaultMaxImagePixels = 2 * (1024ULL * 1024 * 1024 / 4 / 3);

struct LoadOptions {
  // width x height allowed; std::nullopt: no limit (Python's max_pixels=None). Must be positive.
  std::optional<std::uint64_t> max_pixels = kDefaultMaxImagePixels;
};

// A file path. A leading "~" is the home directory (Python's expanduser).
RgbImage load_image(const std::filesystem::path& path, const LoadOptions& options = {});

// Encoded PNG or JPEG bytes (a file read by the caller, a network buffer).
RgbImage load_image_bytes(std::span<const std::uint8_t> bytes, const LoadOptions& options = {});

}  // namespace frozenseg::image
