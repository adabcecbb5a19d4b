// Which orientation Pillow's Image.getexif reports, and the decoders' shared refusals.
#include <cstdio>
#include <string_view>

#include "common/error.hpp"
#include "image/decode.hpp"
#include "image/exif.hpp"

namespace frozenseg::image::detail {

namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Python's bytes.fromhex("".join(text.split("\n")[3:])): whitespace allowed between byte pairs.
std::optional<std::vector<std::uint8_t>> raw_profile_bytes(std::string_view text) {
  std::size_t start = 0;
  for (int line = 0; line < 3; ++line) {
    const std::size_t newline = text.find('\n', start);
    if (newline == std::string_view::npos) return std::vector<std::uint8_t>{};
    start = newline + 1;
  }
  std::string hex;
  for (char c : text.substr(start)) {
    if (c != '\n') hex.push_back(c);
  }
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size();) {
    if (is_ascii_space(hex[i])) {
      ++i;
      continue;
    }
    if (i + 1 >= hex.size()) return std::nullopt;
    const int hi = hex_value(hex[i]);
    const int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

void fail_decode(const DecodeContext& context, const std::string& reason) {
  fail_input("cannot decode image " + context.label + ": " + reason + "; expected JPEG or PNG");
}

void check_size(std::uint64_t width, std::uint64_t height, const DecodeContext& context) {
  const std::string name = "image " + context.label;
  if (width == 0 || height == 0) {
    fail_input("expected a non-empty image, received " + name + " of " + std::to_string(width) +
               " x " + std::to_string(height) + " pixels");
  }
  const std::uint64_t pixels = width * height;  // both < 2^32: no overflow
  if (context.max_pixels && pixels > *context.max_pixels) {
    fail_input("expected an image of at most " + with_thousands(*context.max_pixels) +
               " pixels (the limit that guards against decompression bombs), received " + name +
               " of " + std::to_string(width) + " x " + std::to_string(height) + " = " +
               with_thousands(pixels) + " pixels; if the image is genuine, raise the limit with "
               "LoadOptions::max_pixels = " + std::to_string(pixels) +
               " (std::nullopt: no limit), or downscale the image");
  }
  if (pixels > kMaxImageBufferPixels) {
    fail_input("expected an image of at most " + with_thousands(kMaxImageBufferPixels) +
               " pixels (what one image buffer can hold), received " + name + " of " +
               std::to_string(width) + " x " + std::to_string(height) + " pixels; downscale it");
  }
}

RgbImage orient(RgbImage image, const OrientationSources& sources, const DecodeContext& context) {
  std::optional<std::vector<std::uint8_t>> exif = sources.exif;
  if (!exif && sources.raw_profile_exif) {
    exif = raw_profile_bytes(*sources.raw_profile_exif);
    if (!exif) fail_decode(context, "its \"Raw profile type exif\" text is not valid hex");
  }
  ExifInfo info;
  if (exif) {
    info = parse_exif(*exif);
    if (!info.header_error.empty()) {
      if (sources.exif_errors_swallowed) return image;
      fail_decode(context, info.header_error);
    }
  }
  long long orientation = 1;
  if (info.orientation_present) {
    orientation = info.orientation.value_or(1);
  } else if (sources.xmp) {
    orientation = xmp_orientation(*sources.xmp).value_or(1);
  }
  return apply_orientation(std::move(image), orientation);
}

}  // namespace frozenseg::image::detail
