// Internal to the image area: the PNG and JPEG decoders behind load_image, and what they share
// (the label used in messages, the pixel limit checked on the header, the metadata that carries
// the EXIF orientation).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "image/image.hpp"

namespace frozenseg::image::detail {

struct DecodeContext {
  std::string label;                      // "<path>" or "from the given bytes"
  std::optional<std::uint64_t> max_pixels;  // nullopt: no limit
};

// "cannot decode image <label>: <reason>; expected JPEG or PNG" as FS_INVALID_INPUT.
[[noreturn]] void fail_decode(const DecodeContext& context, const std::string& reason);

// Refuse an empty image or one over the pixel limit, before any pixel is decoded.
void check_size(std::uint64_t width, std::uint64_t height, const DecodeContext& context);

// Where Pillow finds an image's orientation (Image.getexif): the EXIF block, else for PNG the
// hex "Raw profile type exif" text, and without an Orientation tag, the XMP packet.
struct OrientationSources {
  std::optional<std::vector<std::uint8_t>> exif;
  std::optional<std::string> raw_profile_exif;  // PNG text chunk, hex after its third line
  std::optional<std::vector<std::uint8_t>> xmp;
  // Pillow's JPEG plugin reads the EXIF once at open to find a dpi when the JFIF header gives
  // none, and swallows that read's errors, after which the EXIF counts as read and empty: a TIFF
  // header it cannot parse then means no orientation at all (the XMP is not consulted either)
  // instead of a refusal.
  bool exif_errors_swallowed = false;
};

// The image turned upright as the Python runtime's ImageOps.exif_transpose turns it; an EXIF
// block Pillow raises on is refused through fail_decode.
RgbImage orient(RgbImage image, const OrientationSources& sources, const DecodeContext& context);

bool looks_like_png(std::span<const std::uint8_t> bytes);
bool looks_like_jpeg(std::span<const std::uint8_t> bytes);

RgbImage decode_png(std::span<const std::uint8_t> bytes, const DecodeContext& context);
RgbImage decode_jpeg(std::span<const std::uint8_t> bytes, const DecodeContext& context);

}  // namespace frozenseg::image::detail
