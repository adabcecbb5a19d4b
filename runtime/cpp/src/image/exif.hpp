// EXIF orientation, read as Pillow reads it (Image.getexif, then ImageOps.exif_transpose in the
// Python runtime's load_image), and applied as Pillow's Image.transpose does.
//
// Pillow's rules, mirrored here because they decide which images get rotated:
// - the EXIF block may start with one or two "Exif\0\0" prefixes; then an 8-byte TIFF header
//   ("II*\0", "MM\0*", and the four odd variants Pillow accepts); a header Pillow cannot parse
//   makes it raise, so the Python runtime refuses the image (ExifInfo::header_error);
// - only IFD0 is read; a damaged IFD keeps the tags read before the damage; a repeated tag keeps
//   its first entry; a tag of an unknown TIFF type is skipped;
// - the Orientation tag (0x0112) counts when its first value equals an integer: SHORT, LONG and
//   the signed integer types, FLOAT / DOUBLE / (S)RATIONAL with an integral value; BYTE, ASCII
//   and UNDEFINED values are bytes or text in Pillow and never match;
// - with no Orientation tag at all, XMP's `tiff:Orientation="N"` or `<tiff:Orientation>N` counts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "image/image.hpp"

namespace frozenseg::image {

struct ExifInfo {
  bool orientation_present = false;        // the tag is in IFD0 (blocks the XMP fallback)
  std::optional<long long> orientation;    // its value, when it equals an integer
  std::string header_error;                // non-empty: Pillow raises on this block
};

// Parse an EXIF block (a JPEG APP1 payload or a PNG eXIf chunk, "Exif\0\0" prefix optional).
// An empty block (after the prefixes) has no tags.
ExifInfo parse_exif(std::span<const std::uint8_t> exif);

// The first `tiff:Orientation="N"` / `tiff:Orientation>N` digit of an XMP packet, if any.
std::optional<int> xmp_orientation(std::span<const std::uint8_t> xmp);

// Pillow's exif_transpose: 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
// 7 transverse, 8 rotate 90 counter-clockwise; any other value returns the image unchanged.
RgbImage apply_orientation(RgbImage image, long long orientation);

}  // namespace frozenseg::image
