#include "output/png.hpp"

#include <png.h>

#include <csetjmp>
#include <cstring>
#include <string>

#include "common/error.hpp"

namespace frozenseg::output {

namespace {

void on_png_error(png_structp png, png_const_charp message) {
  auto* text = static_cast<std::string*>(png_get_error_ptr(png));
  if (text != nullptr) *text = message;
  png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

void append_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
  try {
    out->insert(out->end(), data, data + size);
  } catch (...) {
    png_error(png, "out of memory while encoding a PNG");
  }
}

void flush_nothing(png_structp) {}

// Only plain C objects live in this frame, so libpng's longjmp on error skips no destructor.
bool encode_rows(const std::uint8_t* pixels, int height, int width, int color_type, int bit_depth,
                 std::size_t row_bytes, std::vector<std::uint8_t>* out, std::string* error) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, error, on_png_error,
                                            on_png_warning);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, append_bytes, flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height),
               bit_depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (bit_depth == 16) {
    const std::uint16_t probe = 1;
    std::uint8_t first = 0;
    std::memcpy(&first, &probe, 1);
    if (first == 1) png_set_swap(png);  // PNG stores 16-bit samples big-endian
  }
  for (int y = 0; y < height; ++y)
    png_write_row(png, pixels + static_cast<std::size_t>(y) * row_bytes);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

std::vector<std::uint8_t> encode(const void* pixels, std::size_t count, int height, int width,
                                 int color_type, int bit_depth, int channels) {
  const std::size_t row_bytes = static_cast<std::size_t>(width) * channels * (bit_depth / 8);
  if (height <= 0 || width <= 0 || count != static_cast<std::size_t>(height) * width * channels)
    fail_argument("a PNG needs " + std::to_string(height) + "x" + std::to_string(width) + "x" +
                  std::to_string(channels) + " samples (positive sizes), got " +
                  std::to_string(count));
  std::vector<std::uint8_t> out;
  std::string error = "libpng failed";
  if (!encode_rows(static_cast<const std::uint8_t*>(pixels), height, width, color_type, bit_depth,
                   row_bytes, &out, &error))
    throw Error(FS_INTERNAL_ERROR, "PNG encoding failed: " + error);
  return out;
}

struct ReadCursor {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t at;
};

void read_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* cursor = static_cast<ReadCursor*>(png_get_io_ptr(png));
  if (cursor->size - cursor->at < size) png_error(png, "the PNG data ends early");
  std::memcpy(data, cursor->data + cursor->at, size);
  cursor->at += size;
}

// libpng read state, destroyed on every path.
struct ReadHandle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ReadHandle(const ReadHandle&) = delete;
  ReadHandle& operator=(const ReadHandle&) = delete;
  explicit ReadHandle(std::string* error) {
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, error, on_png_error, on_png_warning);
    if (png != nullptr) info = png_create_info_struct(png);
  }
  ~ReadHandle() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

// The two phases of a read each own a setjmp and keep only plain C objects in their frame.
bool read_header(png_structp png, png_infop info, ReadCursor* cursor, DecodedPng* out,
                 std::size_t* row_bytes) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, cursor, read_bytes);
  png_read_info(png, info);
  if (png_get_color_type(png, info) == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_bit_depth(png, info) == 16) {
    const std::uint16_t probe = 1;
    std::uint8_t first = 0;
    std::memcpy(&first, &probe, 1);
    if (first == 1) png_set_swap(png);
  }
  png_read_update_info(png, info);
  out->width = static_cast<int>(png_get_image_width(png, info));
  out->height = static_cast<int>(png_get_image_height(png, info));
  out->channels = png_get_channels(png, info);
  out->bit_depth = png_get_bit_depth(png, info);
  *row_bytes = png_get_rowbytes(png, info);
  return true;
}

bool read_image(png_structp png, std::uint8_t* rows, std::size_t row_bytes, int height) {
  if (setjmp(png_jmpbuf(png))) return false;
  for (int y = 0; y < height; ++y) png_read_row(png, rows + y * row_bytes, nullptr);
  png_read_end(png, nullptr);
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_png_gray8(std::span<const std::uint8_t> pixels, int height, int width) {
  return encode(pixels.data(), pixels.size(), height, width, PNG_COLOR_TYPE_GRAY, 8, 1);
}

std::vector<std::uint8_t> encode_png_gray16(std::span<const std::uint16_t> pixels, int height, int width) {
  return encode(pixels.data(), pixels.size(), height, width, PNG_COLOR_TYPE_GRAY, 16, 1);
}

std::vector<std::uint8_t> encode_png_rgb8(std::span<const std::uint8_t> pixels, int height, int width) {
  return encode(pixels.data(), pixels.size(), height, width, PNG_COLOR_TYPE_RGB, 8, 3);
}

DecodedPng decode_png(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8 || png_sig_cmp(bytes.data(), 0, 8) != 0)
    fail_input("expected PNG data (it starts with \\x89PNG), got " + std::to_string(bytes.size()) +
               " bytes of something else");
  ReadCursor cursor{bytes.data(), bytes.size(), 0};
  DecodedPng out;
  std::string error = "libpng failed";
  ReadHandle handle(&error);
  std::size_t row_bytes = 0;
  if (handle.info == nullptr || !read_header(handle.png, handle.info, &cursor, &out, &row_bytes))
    fail_input("cannot decode the PNG: " + error);
  std::vector<std::uint8_t> rows(row_bytes * out.height);
  if (!read_image(handle.png, rows.data(), row_bytes, out.height))
    fail_input("cannot decode the PNG: " + error);
  const std::size_t samples = static_cast<std::size_t>(out.width) * out.height * out.channels;
  out.samples.resize(samples);
  if (out.bit_depth == 16) {
    std::memcpy(out.samples.data(), rows.data(), samples * 2);
  } else {
    for (std::size_t i = 0; i < samples; ++i) out.samples[i] = rows[i];
  }
  return out;
}

}  // namespace frozenseg::output
