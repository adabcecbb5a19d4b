#include "image/loading.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "common/error.hpp"
#include "image/decode.hpp"

namespace frozenseg::image {

namespace {

namespace fs = std::filesystem;

std::optional<std::uint64_t> checked_limit(const LoadOptions& options) {
  if (options.max_pixels && *options.max_pixels == 0) {
    fail_argument("expected max_pixels as a positive integer or std::nullopt (no limit), "
                  "received 0");
  }
  return options.max_pixels;
}

// Python's Path.expanduser for "~" and "~/...".
fs::path expand_user(const fs::path& path) {
  const std::string text = path.string();
  if (text.empty() || text[0] != '~' || (text.size() > 1 && text[1] != '/')) return path;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return path;
  return fs::path(home) / text.substr(text.size() > 1 ? 2 : 1);
}

bool is_blank(const std::string& text) {
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Names the formats the Python runtime reads through Pillow but this one does not.
std::string unsupported_format(std::span<const std::uint8_t> b) {
  auto starts = [&](const char* magic, std::size_t offset = 0) {
    const std::size_t n = std::strlen(magic);
    return b.size() >= offset + n && std::memcmp(b.data() + offset, magic, n) == 0;
  };
  if (starts("RIFF") && starts("WEBP", 8)) return "WebP";
  if (starts("BM")) return "BMP";
  if (starts("GIF87a") || starts("GIF89a")) return "GIF";
  if (starts("II*") || starts("MM")) return "TIFF";
  if (starts("ftyp", 4)) return "HEIF/AVIF";
  return "";
}

RgbImage decode(std::span<const std::uint8_t> bytes, const detail::DecodeContext& context) {
  if (detail::looks_like_png(bytes)) return detail::decode_png(bytes, context);
  if (detail::looks_like_jpeg(bytes)) return detail::decode_jpeg(bytes, context);
  const std::string format = unsupported_format(bytes);
  if (!format.empty()) {
    fail_input("cannot decode image " + context.label + ": it is a " + format +
               " image, which the C++ runtime does not read (it reads JPEG and PNG); convert it "
               "to PNG first");
  }
  detail::fail_decode(context, "not an image format this runtime recognises");
}

std::vector<std::uint8_t> read_all(const fs::path& path, const detail::DecodeContext& context) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    detail::fail_decode(context, std::string("cannot read the file (") + std::strerror(errno) + ")");
  }
  std::vector<std::uint8_t> bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) bytes.resize(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    detail::fail_decode(context, "cannot read the file");
  }
  return bytes;
}

}  // namespace

RgbImage load_image(const fs::path& source, const LoadOptions& options) {
  const auto limit = checked_limit(options);
  if (is_blank(source.string())) fail_input("expected an image path, received an empty string");
  const fs::path path = expand_user(source);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fail_input("expected an image file, received the folder " + path.string() +
               "; pass one of its images");
  }
  if (!fs::is_regular_file(path, ec)) {
    fail_input("expected an image file, received '" + path.string() +
               "', which does not exist or is not a file; check the path");
  }
  const detail::DecodeContext context{path.string(), limit};
  const std::vector<std::uint8_t> bytes = read_all(path, context);
  return decode(bytes, context);
}

RgbImage load_image_bytes(std::span<const std::uint8_t> bytes, const LoadOptions& options) {
  const auto limit = checked_limit(options);
  const detail::DecodeContext context{"from the given bytes", limit};
  return decode(bytes, context);
}

}  // namespace frozenseg::image
