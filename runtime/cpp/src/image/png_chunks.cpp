// The PNG chunk walk that mirrors Pillow's PngImagePlugin where libpng does not: the checksum of
// every chunk before the first IDAT (Pillow refuses the file on a mismatch; IDAT and later chunks
// are not checked), and the metadata that carries the orientation: eXIf, the text chunks keyed
// "exif", "Raw profile type exif" and "XML:com.adobe.xmp" (tEXt, zTXt, iTXt), wherever they are.
#include <zlib.h>

#include <cctype>
#include <cstring>
#include <string_view>

#include "image/decode.hpp"
#include "image/png_chunks.hpp"

namespace frozenseg::image::detail {

namespace {

using Bytes = std::span<const std::uint8_t>;

// Pillow's text chunk limit (ImageFile.SAFEBLOCK, MAX_TEXT_CHUNK): larger inflated text is refused
// by Pillow; here such a chunk is ignored.
constexpr std::size_t kMaxTextChunk = 1024 * 1024;

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::optional<std::vector<std::uint8_t>> inflate_text(Bytes data) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return std::nullopt;
  std::vector<std::uint8_t> out;
  std::uint8_t buffer[16384];
  zs.next_in = const_cast<Bytef*>(data.data());
  zs.avail_in = static_cast<uInt>(data.size());
  int status = Z_OK;
  while (status == Z_OK) {
    zs.next_out = buffer;
    zs.avail_out = sizeof buffer;
    status = inflate(&zs, Z_NO_FLUSH);
    out.insert(out.end(), buffer, buffer + (sizeof buffer - zs.avail_out));
    if (out.size() > kMaxTextChunk) status = Z_MEM_ERROR;
    if (status == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended early: keep what came
  }
  inflateEnd(&zs);
  if (status != Z_STREAM_END && status != Z_BUF_ERROR) return std::nullopt;
  return out;
}

std::string_view as_text(Bytes bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Python's data.split(b"\0", 1): (key, rest), or nothing when there is no NUL.
std::optional<std::pair<Bytes, Bytes>> split_nul(Bytes data) {
  if (data.empty()) return std::nullopt;
  const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data.data(), 0, data.size()));
  if (nul == nullptr) return std::nullopt;
  const auto key_size = static_cast<std::size_t>(nul - data.data());
  return std::pair{data.first(key_size), data.subspan(key_size + 1)};
}

// tEXt / zTXt: without a NUL the whole chunk is the key (Pillow's fallback).
std::pair<Bytes, Bytes> key_and_value(Bytes data) {
  return split_nul(data).value_or(std::pair{data, Bytes{}});
}

void take_text(std::string_view key, Bytes value, bool raw_exif_allowed,
               OrientationSources& sources) {
  if (key == "exif" && raw_exif_allowed) {
    sources.exif.emplace(value.begin(), value.end());
  } else if (key == "Raw profile type exif") {
    sources.raw_profile_exif.emplace(as_text(value));
  } else if (key == "XML:com.adobe.xmp") {
    sources.xmp.emplace(value.begin(), value.end());
  }
}

void take_itxt(Bytes data, OrientationSources& sources) {
  const auto key_rest = split_nul(data);
  if (!key_rest || key_rest->second.size() < 2) return;
  const Bytes rest = key_rest->second;
  const std::uint8_t compressed = rest[0];
  const std::uint8_t method = rest[1];
  const auto language_rest = split_nul(rest.subspan(2));
  if (!language_rest) return;
  const auto translated_value = split_nul(language_rest->second);
  if (!translated_value) return;  // Pillow skips an iTXt without its three NULs
  Bytes value = translated_value->second;
  std::vector<std::uint8_t> inflated;
  if (compressed != 0) {
    if (method != 0) return;
    auto text = inflate_text(value);
    if (!text) return;
    inflated = std::move(*text);
    value = inflated;
  }
  take_text(as_text(key_rest->first), value, false, sources);
}

// Pillow's chunk names: four of [A-Za-z0-9_].
bool is_chunk_name(std::string_view name) {
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

PngChunkScan scan_png_chunks(std::span<const std::uint8_t> bytes, const DecodeContext& context) {
  PngChunkScan scan;
  OrientationSources& sources = scan.orientation;
  std::size_t pos = 8;  // after the signature
  bool after_idat = false;
  bool after_image_data = false;  // past the run of IDAT chunks
  while (pos + 8 <= bytes.size()) {
    const std::uint32_t length = be32(bytes.data() + pos);
    const std::uint8_t* type = bytes.data() + pos + 4;
    const std::string_view name(reinterpret_cast<const char*>(type), 4);
    const std::size_t data_at = pos + 8;
    if (after_idat && name != "IDAT") after_image_data = true;
    if (length > bytes.size() - data_at) {
      // Cut here. Before the image data libpng reports it; after, Pillow refuses a named chunk
      // it cannot read whole.
      scan.cut_after_image_data = after_image_data && name != "IEND" && is_chunk_name(name);
      break;
    }
    const auto data = bytes.subspan(data_at, length);
    if (name == "IDAT") {
      after_idat = true;
    } else if (!after_idat) {
      if (data_at + length + 4 > bytes.size()) break;
      const auto crc = static_cast<std::uint32_t>(
          crc32(crc32(0L, type, 4), data.data(), static_cast<uInt>(data.size())));
      if (crc != be32(bytes.data() + data_at + length)) {
        fail_decode(context, "broken PNG file (bad header checksum in " + std::string(name) + ")");
      }
    }
    if (name == "eXIf") {
      std::vector<std::uint8_t> exif{'E', 'x', 'i', 'f', 0, 0};
      exif.insert(exif.end(), data.begin(), data.end());
      sources.exif = std::move(exif);
    } else if (name == "tEXt") {
      const auto [key, value] = key_and_value(data);
      if (!key.empty()) take_text(as_text(key), value, true, sources);
    } else if (name == "zTXt") {
      const auto [key, rest] = key_and_value(data);
      if (!key.empty() && (rest.empty() || rest[0] == 0)) {
        const auto text = rest.empty() ? std::nullopt : inflate_text(rest.subspan(1));
        take_text(as_text(key), text ? Bytes(*text) : Bytes(), false, sources);
      }
    } else if (name == "iTXt") {
      take_itxt(data, sources);
    } else if (name == "IEND") {
      break;
    }
    pos = data_at + length + 4;
  }
  return scan;
}

}  // namespace frozenseg::image::detail
