// Internal: the PNG chunk walk (checksums Pillow checks, orientation metadata); see png_chunks.cpp.
#pragma once

#include <cstdint>
#include <span>

#include "image/decode.hpp"

namespace frozenseg::image::detail {

struct PngChunkScan {
  OrientationSources orientation;
  // A chunk after the image data is cut short: Pillow reads those chunks once the pixels are
  // decoded and refuses the file ("Truncated File Read").
  bool cut_after_image_data = false;
};

// Walks the chunks after the signature. Refuses (fail_decode) a chunk before the first IDAT whose
// CRC does not match, as Pillow does; stops at IEND or where the file is cut.
PngChunkScan scan_png_chunks(std::span<const std::uint8_t> bytes, const DecodeContext& context);

}  // namespace frozenseg::image::detail
