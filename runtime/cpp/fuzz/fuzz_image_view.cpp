// The C ABI's caller-owned pixels: an fs_image's height, width, stride and format checked as
// fs_segment checks them (c_api.cpp, segment_image), then viewed and copied to RGB by
// image::to_rgb, the conversion every fs_segment* call runs before the model (each C entry taking
// an fs_image needs a segmenter, so the conversion is fuzzed directly).
//
// Input: int32 height, int32 width, int64 stride, int32 format (native byte order), then the
// pixel bytes. A buffer shorter than the fs_image contract's (height - 1) * stride + width * bpp
// is the caller's breach, not the library's: skipped, unless the library must refuse the view
// before reading it (a stride shorter than one row).
#include <cstring>
#include <memory>

#include "frozenseg/frozenseg.h"
#include "fuzz_support.hpp"
#include "image/image.hpp"

namespace {

template <typename T>
T take(const std::uint8_t*& data, std::size_t& size) {
  T value{};
  const std::size_t n = size < sizeof value ? size : sizeof value;
  std::memcpy(&value, data, n);
  data += n;
  size -= n;
  return value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace frozenseg::image;
  const auto height = take<std::int32_t>(data, size);
  const auto width = take<std::int32_t>(data, size);
  const auto stride = take<std::int64_t>(data, size);
  const auto raw_format = take<std::int32_t>(data, size);
  // fs_segment's own checks before it builds the view.
  if (height <= 0 || width <= 0 || stride < 0) return 0;
  PixelFormat format;
  switch (raw_format) {
    case FS_PIXEL_RGB: format = PixelFormat::RGB; break;
    case FS_PIXEL_BGR: format = PixelFormat::BGR; break;
    case FS_PIXEL_RGBA: format = PixelFormat::RGBA; break;
    case FS_PIXEL_BGRA: format = PixelFormat::BGRA; break;
    case FS_PIXEL_GRAY: format = PixelFormat::GRAY; break;
    default: return 0;
  }
  // The buffer the contract asks for (stride 0, which the C ABI refuses, is to_rgb's "packed").
  const unsigned __int128 packed = static_cast<unsigned __int128>(width) * bytes_per_pixel(format);
  const unsigned __int128 row = stride == 0 ? packed : static_cast<unsigned __int128>(stride);
  const unsigned __int128 needed = (height - 1) * row + packed;
  if (row >= packed && needed > size) return 0;
  // A copy of exactly the pixel bytes: a read past them is AddressSanitizer's to see.
  std::unique_ptr<std::uint8_t[]> pixels(new std::uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(pixels.get(), data, size);
  ImageView view;
  view.data = pixels.get();
  view.height = height;
  view.width = width;
  view.stride = static_cast<std::size_t>(stride);
  view.format = format;
  return frozenseg::fuzz::run([&] {
    const RgbImage rgb = to_rgb(view);
    if (rgb.height() != height || rgb.width() != width) std::abort();
  });
}
