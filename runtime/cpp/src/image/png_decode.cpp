// PNG -> RGB uint8 with libpng, giving the pixels Pillow gives the Python runtime:
// - no libpng colour transform is used (no gamma, no tRNS expansion, no 16 -> 8 scaling): rows
//   come raw and are converted here as Pillow's unpackers and convert("RGB") do;
// - gray of 1, 2, 4 bits scaled to 0..255 (x 255, 85, 17), 16-bit samples keep their high byte
//   (Pillow's ";16B" unpackers; the runtime's `>> 8` for I;16), alpha dropped, palette indices
//   looked up (an index past the PLTE entries is black, Pillow's zeroed palette);
// - chunk checksums as Pillow checks them (png_chunks.cpp), so libpng ignores CRCs;
// - truncation as Pillow sees it: libpng's progressive reader is given the bytes there are and
//   decodes rows as far as they go, like Pillow's decoder; the image is whole when every row
//   arrived, whatever comes after (a cut zlib checksum, a missing IEND), and "image file is
//   truncated" otherwise. Adam7 passes arrive as sub-images and are scattered here.
// libpng reports errors with longjmp: the functions that call libpng hold only trivial locals,
// and C++ objects (the result, the layout) live outside them; the callbacks do not throw.
#include <png.h>

#include <array>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <optional>

#include "image/decode.hpp"
#include "image/png_chunks.hpp"

namespace frozenseg::image::detail {

namespace {

// Adam7: first column / row and step of each pass.
constexpr int kPassX0[7] = {0, 4, 0, 2, 0, 1, 0};
constexpr int kPassY0[7] = {0, 0, 4, 0, 2, 0, 1};
constexpr int kPassDx[7] = {8, 8, 4, 4, 2, 2, 1};
constexpr int kPassDy[7] = {8, 8, 8, 4, 4, 2, 2};

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The IHDR fields, read before libpng runs (the pixel limit is checked on them).
struct Header {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  int bit_depth = 0;
  int color_type = 0;
  bool interlaced = false;
};

std::optional<Header> read_ihdr(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8 + 8 + 13 || be32(bytes.data() + 8) != 13 ||
      std::memcmp(bytes.data() + 12, "IHDR", 4) != 0) {
    return std::nullopt;
  }
  const std::uint8_t* d = bytes.data() + 16;
  return Header{be32(d), be32(d + 4), d[8], d[9], d[12] != 0};
}

std::uint32_t pass_size(std::uint32_t full, int start, int step) {
  return full > static_cast<std::uint32_t>(start) ? (full - start + step - 1) / step : 0;
}

// What it takes to turn one raw row (after png_set_packing) into RGB.
struct RowLayout {
  int color_type = 0;
  int bit_depth = 0;
  std::uint8_t gray_scale = 1;  // 1-, 2-, 4-bit gray to 0..255
  std::array<std::uint8_t, 256 * 3> palette{};
};

void convert_row(const RowLayout& L, const std::uint8_t* raw, std::uint8_t* out, std::size_t width,
                 std::size_t out_step) {
  const bool wide = L.bit_depth == 16;
  const std::size_t skip = 3 * out_step;
  switch (L.color_type) {
    case PNG_COLOR_TYPE_GRAY: {
      const std::size_t step = wide ? 2 : 1;
      for (std::size_t x = 0; x < width; ++x, out += skip) {
        const auto v = static_cast<std::uint8_t>(raw[x * step] * L.gray_scale);
        out[0] = out[1] = out[2] = v;
      }
      break;
    }
    case PNG_COLOR_TYPE_GRAY_ALPHA: {
      const std::size_t step = wide ? 4 : 2;
      for (std::size_t x = 0; x < width; ++x, out += skip) out[0] = out[1] = out[2] = raw[x * step];
      break;
    }
    case PNG_COLOR_TYPE_RGB:
    case PNG_COLOR_TYPE_RGB_ALPHA: {
      const std::size_t channels = L.color_type == PNG_COLOR_TYPE_RGB ? 3 : 4;
      const std::size_t sample = wide ? 2 : 1;
      const std::size_t step = channels * sample;
      for (std::size_t x = 0; x < width; ++x, out += skip) {
        const std::uint8_t* p = raw + x * step;
        out[0] = p[0];
        out[1] = p[sample];
        out[2] = p[2 * sample];
      }
      break;
    }
    case PNG_COLOR_TYPE_PALETTE:
      for (std::size_t x = 0; x < width; ++x, out += skip) {
        const std::uint8_t* c = L.palette.data() + 3 * static_cast<std::size_t>(raw[x]);
        out[0] = c[0];
        out[1] = c[1];
        out[2] = c[2];
      }
      break;
    default:
      break;
  }
}

struct PngReader {
  png_structp png = nullptr;
  png_infop info = nullptr;
  Header header;
  RowLayout layout;
  RgbImage* out = nullptr;
  std::uint64_t rows_expected = 0;  // scanlines in the file, Adam7 passes included
  std::uint64_t rows_received = 0;
  char message[256] = {};

  PngReader() = default;
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  ~PngReader() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

PngReader* reader_of(png_structp png) { return static_cast<PngReader*>(png_get_progressive_ptr(png)); }

extern "C" void png_on_error(png_structp png, png_const_charp message) {
  auto* reader = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(reader->message, sizeof reader->message, "%s", message);
  png_longjmp(png, 1);
}

extern "C" void png_on_warning(png_structp, png_const_charp) {}  // Pillow ignores them too

extern "C" void png_on_info(png_structp png, png_infop info) {
  PngReader* r = reader_of(png);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  const Header& h = r->header;
  if (width != h.width || height != h.height || bit_depth != h.bit_depth ||
      color_type != h.color_type || (interlace != PNG_INTERLACE_NONE) != h.interlaced) {
    png_error(png, "IHDR read twice differently");  // cannot happen with one IHDR
  }
  if (bit_depth < 8) png_set_packing(png);  // one sample per byte, values unscaled
  png_read_update_info(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp entries = nullptr;
    int count = 0;
    if (png_get_PLTE(png, info, &entries, &count) != 0) {
      for (int i = 0; i < count && i < 256; ++i) {
        r->layout.palette[3 * i + 0] = entries[i].red;
        r->layout.palette[3 * i + 1] = entries[i].green;
        r->layout.palette[3 * i + 2] = entries[i].blue;
      }
    }
  }
}

extern "C" void png_on_row(png_structp png, png_bytep row, png_uint_32 row_number, int pass) {
  PngReader* r = reader_of(png);
  if (row == nullptr) return;
  RgbImage& out = *r->out;
  if (!r->header.interlaced) {
    if (row_number >= r->header.height) return;
    convert_row(r->layout, row, out.row(static_cast<int>(row_number)), r->header.width, 1);
  } else {
    if (pass < 0 || pass > 6) return;
    const std::uint64_t y = kPassY0[pass] + static_cast<std::uint64_t>(row_number) * kPassDy[pass];
    if (y >= r->header.height) return;
    const std::uint32_t width = pass_size(r->header.width, kPassX0[pass], kPassDx[pass]);
    convert_row(r->layout, row, out.row(static_cast<int>(y)) + 3 * kPassX0[pass], width,
                kPassDx[pass]);
  }
  ++r->rows_received;
}

extern "C" void png_on_end(png_structp, png_infop) {}

bool start(PngReader& r) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_set_crc_action(r.png, PNG_CRC_QUIET_USE, PNG_CRC_QUIET_USE);
  png_set_user_limits(r.png, 0x7fffffffU, 0x7fffffffU);  // the pixel limit decides instead
  png_set_benign_errors(r.png, 1);
  png_set_check_for_invalid_index(r.png, 0);
  png_set_progressive_read_fn(r.png, &r, png_on_info, png_on_row, png_on_end);
  return true;
}

// Feeds every byte; false when libpng stopped on an error.
bool feed(PngReader& r, std::span<const std::uint8_t> bytes) {
  if (setjmp(png_jmpbuf(r.png))) return false;
  png_process_data(r.png, r.info, const_cast<png_bytep>(bytes.data()), bytes.size());
  return true;
}

std::uint64_t scanlines(const Header& h) {
  if (!h.interlaced) return h.height;
  std::uint64_t total = 0;
  for (int p = 0; p < 7; ++p) {
    if (pass_size(h.width, kPassX0[p], kPassDx[p]) > 0) {
      total += pass_size(h.height, kPassY0[p], kPassDy[p]);
    }
  }
  return total;
}

}  // namespace

bool looks_like_png(std::span<const std::uint8_t> bytes) {
  static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return bytes.size() >= 8 && std::memcmp(bytes.data(), kSignature, 8) == 0;
}

RgbImage decode_png(std::span<const std::uint8_t> bytes, const DecodeContext& context) {
  const PngChunkScan scan = scan_png_chunks(bytes, context);
  const std::optional<Header> header = read_ihdr(bytes);
  if (!header) fail_decode(context, "broken PNG file (no IHDR chunk first)");
  check_size(header->width, header->height, context);
  const int depth = header->bit_depth;
  const int type = header->color_type;
  const bool valid = (type == 0 && (depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16)) ||
                     (type == 3 && (depth == 1 || depth == 2 || depth == 4 || depth == 8)) ||
                     ((type == 2 || type == 4 || type == 6) && (depth == 8 || depth == 16));
  if (!valid) {
    fail_decode(context, "broken PNG file (colour type " + std::to_string(type) + " with bit depth " +
                             std::to_string(depth) + ")");
  }

  RgbImage out(static_cast<int>(header->height), static_cast<int>(header->width));
  PngReader r;
  r.header = *header;
  r.layout.color_type = type;
  r.layout.bit_depth = depth;
  if (type == PNG_COLOR_TYPE_GRAY && depth < 8) {
    r.layout.gray_scale = static_cast<std::uint8_t>(255 / ((1 << depth) - 1));
  }
  r.out = &out;
  r.rows_expected = scanlines(*header);
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_on_error, png_on_warning);
  if (r.png != nullptr) r.info = png_create_info_struct(r.png);
  if (r.png == nullptr || r.info == nullptr || !start(r)) {
    fail_decode(context, "libpng could not start (out of memory?)");
  }
  const bool clean = feed(r, bytes);
  if (r.rows_received < r.rows_expected) {  // Pillow's decoder would have wanted more
    if (clean) fail_decode(context, "image file is truncated");
    fail_decode(context, std::string("broken PNG data (libpng: ") + r.message + ")");
  }
  if (scan.cut_after_image_data) fail_decode(context, "image file is truncated");
  return orient(std::move(out), scan.orientation, context);
}

}  // namespace frozenseg::image::detail
