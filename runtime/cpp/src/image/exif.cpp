#include "image/exif.hpp"

#include <cmath>
#include <cstring>
#include <string_view>
#include <vector>

namespace frozenseg::image {

namespace {

constexpr std::uint16_t kOrientationTag = 0x0112;

// Reads TIFF integers in the block's byte order.
class TiffReader {
 public:
  TiffReader(std::span<const std::uint8_t> data, bool big_endian)
      : data_(data), big_endian_(big_endian) {}

  bool has(std::uint64_t offset, std::uint64_t size) const {
    return offset <= data_.size() && size <= data_.size() - offset;
  }
  std::uint64_t uint(std::uint64_t offset, int bytes) const {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      const std::uint64_t b = data_[offset + (big_endian_ ? i : bytes - 1 - i)];
      v = (v << 8) | b;
    }
    return v;
  }
  std::span<const std::uint8_t> bytes(std::uint64_t offset, std::uint64_t size) const {
    return data_.subspan(offset, size);
  }
  std::size_t size() const { return data_.size(); }

 private:
  std::span<const std::uint8_t> data_;
  bool big_endian_;
};

// Bytes per value of the TIFF types Pillow can load; 0 for the ones it skips.
int unit_size(std::uint16_t type) {
  switch (type) {
    case 1: case 2: case 6: case 7: return 1;   // BYTE ASCII SBYTE UNDEFINED
    case 3: case 8: return 2;                   // SHORT SSHORT
    case 4: case 9: case 11: case 13: return 4; // LONG SLONG FLOAT IFD
    case 5: case 10: case 12: case 16: return 8; // RATIONAL SRATIONAL DOUBLE LONG8
    default: return 0;
  }
}

std::int64_t sign_extend(std::uint64_t v, int bytes) {
  const int shift = 64 - 8 * bytes;
  return static_cast<std::int64_t>(v << shift) >> shift;
}

// The first value of a tag when Pillow's value equals an integer (see exif.hpp).
std::optional<long long> integral_first_value(const TiffReader& r, std::uint64_t at,
                                              std::uint16_t type) {
  switch (type) {
    case 3: return static_cast<long long>(r.uint(at, 2));
    case 4: case 13: return static_cast<long long>(r.uint(at, 4));
    case 16: {
      const std::uint64_t v = r.uint(at, 8);
      if (v > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
      return static_cast<long long>(v);
    }
    case 6: return sign_extend(r.uint(at, 1), 1);
    case 8: return sign_extend(r.uint(at, 2), 2);
    case 9: return sign_extend(r.uint(at, 4), 4);
    case 11: case 12: {
      double d;
      if (type == 11) {
        const auto bits = static_cast<std::uint32_t>(r.uint(at, 4));
        float f;
        std::memcpy(&f, &bits, sizeof f);
        d = f;
      } else {
        const std::uint64_t bits = r.uint(at, 8);
        std::memcpy(&d, &bits, sizeof d);
      }
      if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 1e15) return std::nullopt;
      return static_cast<long long>(d);
    }
    case 5: case 10: {
      std::int64_t num, den;
      if (type == 5) {
        num = static_cast<std::int64_t>(r.uint(at, 4));
        den = static_cast<std::int64_t>(r.uint(at + 4, 4));
      } else {
        num = sign_extend(r.uint(at, 4), 4);
        den = sign_extend(r.uint(at + 4, 4), 4);
      }
      if (den == 0 || num % den != 0) return std::nullopt;  // Pillow: NaN or a true fraction
      return num / den;
    }
    default:
      return std::nullopt;  // BYTE / ASCII / UNDEFINED: bytes or text in Pillow
  }
}

bool starts_with(std::span<const std::uint8_t> data, std::string_view prefix) {
  return data.size() >= prefix.size() &&
         std::memcmp(data.data(), prefix.data(), prefix.size()) == 0;
}

}  // namespace

ExifInfo parse_exif(std::span<const std::uint8_t> exif) {
  ExifInfo info;
  constexpr std::string_view kPrefix("Exif\0\0", 6);
  for (int i = 0; i < 2 && starts_with(exif, kPrefix); ++i) exif = exif.subspan(kPrefix.size());
  if (exif.empty()) return info;

  // Pillow's accepted TIFF headers; the two "invalid" ones are taken with their byte order.
  const auto head = exif.first(std::min<std::size_t>(exif.size(), 8));
  bool big_endian;
  if (starts_with(head, std::string_view("MM\0*", 4)) || starts_with(head, std::string_view("MM*\0", 4)) ||
      starts_with(head, std::string_view("MM\0+", 4))) {
    big_endian = true;
  } else if (starts_with(head, std::string_view("II*\0", 4)) ||
             starts_with(head, std::string_view("II\0*", 4)) ||
             starts_with(head, std::string_view("II+\0", 4))) {
    big_endian = false;
  } else {
    info.header_error = "not a TIFF file (its EXIF block has no valid TIFF header)";
    return info;
  }
  if (head.size() < 8 || head[2] == 43) {  // Pillow cannot unpack a short or a BigTIFF header
    info.header_error = "its EXIF block has a truncated or BigTIFF header Pillow cannot read";
    return info;
  }

  const TiffReader r(exif, big_endian);
  const std::uint64_t ifd = r.uint(4, 4);
  if (!r.has(ifd, 2)) return info;  // Pillow warns and reads no tags
  const std::uint64_t count = r.uint(ifd, 2);
  std::uint64_t total_out_of_line = 0;
  std::vector<bool> stored(65536, false);  // Pillow keeps a tag's first stored entry
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t entry = ifd + 2 + 12 * i;
    if (!r.has(entry, 12)) break;  // damaged IFD: the tags before it stay
    const auto tag = static_cast<std::uint16_t>(r.uint(entry, 2));
    const auto type = static_cast<std::uint16_t>(r.uint(entry + 2, 2));
    const std::uint64_t values = r.uint(entry + 4, 4);
    if (stored[tag]) continue;
    const int unit = unit_size(type);
    if (unit == 0) continue;
    const std::uint64_t size = values * static_cast<std::uint64_t>(unit);
    std::uint64_t at = entry + 8;
    if (size > 4) {
      at = r.uint(entry + 8, 4);
      total_out_of_line += size;
      if (total_out_of_line > r.size()) continue;  // "Tag data larger than file"
      if (!r.has(at, size)) break;                  // a short read ends Pillow's IFD loop
    }
    if (size == 0) continue;
    stored[tag] = true;
    if (tag != kOrientationTag) continue;
    info.orientation_present = true;
    info.orientation = integral_first_value(r, at, type);
  }
  return info;
}

std::optional<int> xmp_orientation(std::span<const std::uint8_t> xmp) {
  constexpr std::string_view kKey = "tiff:Orientation";
  const std::string_view text(reinterpret_cast<const char*>(xmp.data()), xmp.size());
  for (std::size_t pos = text.find(kKey); pos != std::string_view::npos;
       pos = text.find(kKey, pos + 1)) {
    std::size_t p = pos + kKey.size();
    if (p < text.size() && text[p] == '>') {
      p += 1;
    } else if (p + 1 < text.size() && text[p] == '=' && text[p + 1] == '"') {
      p += 2;
    } else {
      continue;
    }
    if (p < text.size() && text[p] >= '0' && text[p] <= '9') return text[p] - '0';
  }
  return std::nullopt;
}

RgbImage apply_orientation(RgbImage image, long long orientation) {
  if (orientation < 2 || orientation > 8) return image;
  const int h = image.height();
  const int w = image.width();
  const bool swaps = orientation >= 5;  // transpose, rotations by 90 and transverse
  RgbImage out(swaps ? w : h, swaps ? h : w);
  const int oh = out.height();
  const int ow = out.width();
  for (int y = 0; y < oh; ++y) {
    std::uint8_t* o = out.row(y);
    for (int x = 0; x < ow; ++x, o += 3) {
      int sy, sx;  // source pixel of output (y, x)
      switch (orientation) {
        case 2: sy = y; sx = w - 1 - x; break;               // FLIP_LEFT_RIGHT
        case 3: sy = h - 1 - y; sx = w - 1 - x; break;       // ROTATE_180
        case 4: sy = h - 1 - y; sx = x; break;               // FLIP_TOP_BOTTOM
        case 5: sy = x; sx = y; break;                       // TRANSPOSE
        case 6: sy = h - 1 - x; sx = y; break;               // ROTATE_270 (90 clockwise)
        case 7: sy = h - 1 - x; sx = w - 1 - y; break;       // TRANSVERSE
        default: sy = x; sx = w - 1 - y; break;              // 8: ROTATE_90 (counter-clockwise)
      }
      const std::uint8_t* s = image.row(sy) + 3 * static_cast<std::size_t>(sx);
      o[0] = s[0];
      o[1] = s[1];
      o[2] = s[2];
    }
  }
  return out;
}

}  // namespace frozenseg::image
