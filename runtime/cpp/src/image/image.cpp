#include "image/image.hpp"

#include <cstring>
#include <limits>

#include "common/error.hpp"

namespace frozenseg::image {

namespace {

std::uint64_t checked_pixel_count(long long height, long long width, const char* what) {
  if (height < 0 || width < 0) {
    fail_argument(std::string("expected ") + what + " with a non-negative height and width, received " +
                  std::to_string(height) + " x " + std::to_string(width));
  }
  const auto pixels = static_cast<std::uint64_t>(height) * static_cast<std::uint64_t>(width);
  if (pixels > kMaxImageBufferPixels) {
    fail_argument(std::string("expected ") + what + " of at most " +
                  std::to_string(kMaxImageBufferPixels) + " pixels, received " +
                  std::to_string(height) + " x " + std::to_string(width) + " = " +
                  std::to_string(pixels) + " pixels; check the height and width");
  }
  return pixels;
}

}  // namespace

RgbImage::RgbImage(int height, int width) {
  checked_pixel_count(height, width, "an image size");
  if (height == 0 || width == 0) {
    fail_argument("expected a positive image size, received " + std::to_string(height) + " x " +
                  std::to_string(width));
  }
  height_ = height;
  width_ = width;
  pixels_ = std::make_unique_for_overwrite<std::uint8_t[]>(size_bytes());
}

RgbImage::RgbImage(const RgbImage& other) : height_(other.height_), width_(other.width_) {
  if (other.pixels_) {
    pixels_ = std::make_unique_for_overwrite<std::uint8_t[]>(size_bytes());
    std::memcpy(pixels_.get(), other.pixels_.get(), size_bytes());
  }
}

RgbImage& RgbImage::operator=(const RgbImage& other) {
  if (this != &other) {
    RgbImage copy(other);
    *this = std::move(copy);
  }
  return *this;
}

RgbImage::RgbImage(RgbImage&& other) noexcept
    : height_(other.height_), width_(other.width_), pixels_(std::move(other.pixels_)) {
  other.height_ = 0;
  other.width_ = 0;
}

RgbImage& RgbImage::operator=(RgbImage&& other) noexcept {
  if (this != &other) {
    height_ = other.height_;
    width_ = other.width_;
    pixels_ = std::move(other.pixels_);
    other.height_ = 0;
    other.width_ = 0;
  }
  return *this;
}

int bytes_per_pixel(PixelFormat format) {
  switch (format) {
    case PixelFormat::RGB:
    case PixelFormat::BGR:
      return 3;
    case PixelFormat::RGBA:
    case PixelFormat::BGRA:
      return 4;
    case PixelFormat::GRAY:
      return 1;
  }
  fail_argument("expected a pixel format RGB, BGR, RGBA, BGRA or GRAY, received " +
                format_name(format));
}

std::string format_name(PixelFormat format) {
  switch (format) {
    case PixelFormat::RGB:
      return "RGB";
    case PixelFormat::BGR:
      return "BGR";
    case PixelFormat::RGBA:
      return "RGBA";
    case PixelFormat::BGRA:
      return "BGRA";
    case PixelFormat::GRAY:
      return "GRAY";
  }
  return "PixelFormat(" + std::to_string(static_cast<int>(format)) + ")";
}

RgbImage to_rgb(const ImageView& view) {
  const int bpp = bytes_per_pixel(view.format);
  checked_pixel_count(view.height, view.width, "an image view");
  if (view.height == 0 || view.width == 0) {
    fail_input("expected a non-empty image, received a " + format_name(view.format) +
               " image view of " + std::to_string(view.width) + " x " +
               std::to_string(view.height) + " pixels");
  }
  if (view.data == nullptr) {
    fail_argument("expected pixel data, received a null pointer for a " +
                  std::to_string(view.width) + " x " + std::to_string(view.height) + " " +
                  format_name(view.format) + " image view");
  }
  const std::size_t packed = static_cast<std::size_t>(view.width) * static_cast<std::size_t>(bpp);
  const std::size_t stride = view.stride == 0 ? packed : view.stride;
  if (stride < packed) {
    fail_argument("expected a row stride of at least " + std::to_string(packed) + " bytes (" +
                  std::to_string(view.width) + " " + format_name(view.format) + " pixels of " +
                  std::to_string(bpp) + " bytes), received " + std::to_string(stride) +
                  "; pass the distance in bytes between the starts of two rows, or 0 when rows "
                  "are packed");
  }
  if (stride > std::numeric_limits<std::size_t>::max() / static_cast<std::size_t>(view.height)) {
    fail_argument("expected an image view whose rows fit in memory, received " +
                  std::to_string(view.height) + " rows of stride " + std::to_string(stride));
  }

  RgbImage out(view.height, view.width);
  for (int y = 0; y < view.height; ++y) {
    const std::uint8_t* in = view.data + static_cast<std::size_t>(y) * stride;
    std::uint8_t* o = out.row(y);
    const int w = view.width;
    switch (view.format) {
      case PixelFormat::RGB:
        std::memcpy(o, in, packed);
        break;
      case PixelFormat::BGR:
        for (int x = 0; x < w; ++x, in += 3, o += 3) {
          o[0] = in[2];
          o[1] = in[1];
          o[2] = in[0];
        }
        break;
      case PixelFormat::RGBA:
        for (int x = 0; x < w; ++x, in += 4, o += 3) {
          o[0] = in[0];
          o[1] = in[1];
          o[2] = in[2];
        }
        break;
      case PixelFormat::BGRA:
        for (int x = 0; x < w; ++x, in += 4, o += 3) {
          o[0] = in[2];
          o[1] = in[1];
          o[2] = in[0];
        }
        break;
      case PixelFormat::GRAY:
        for (int x = 0; x < w; ++x, ++in, o += 3) {
          o[0] = o[1] = o[2] = in[0];
        }
        break;
    }
  }
  return out;
}

}  // namespace frozenseg::image
