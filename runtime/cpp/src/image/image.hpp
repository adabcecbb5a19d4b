// Images in memory: RgbImage owns H x W x 3 uint8 RGB pixels (rows contiguous, no padding), the
// layout of the Python runtime's `load_image` result; ImageView describes pixels the caller owns
// (any stride, RGB / BGR / RGBA / BGRA / GRAY) and `to_rgb` copies them into an RgbImage, as
// `load_image` does for numpy arrays (alpha dropped, gray repeated).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace frozenseg::image {

// Above this many pixels an image size is taken for a mistake (a negative size cast to unsigned,
// height and width swapped with a byte count), not an image: 2^32 pixels is 12 GiB of RGB.
inline constexpr std::uint64_t kMaxImageBufferPixels = std::uint64_t{1} << 32;

// H x W x 3 uint8, row-major, contiguous. Copyable (deep copy) and cheap to move; a
// default-constructed image is empty (0 x 0), which preprocessing refuses. Not synchronised:
// share a const image between threads freely, mutate it from one.
class RgbImage {
 public:
  RgbImage() = default;
  // Uninitialised pixels; throws Error(FS_INVALID_ARGUMENT) for a non-positive or huge size.
  RgbImage(int height, int width);

  RgbImage(const RgbImage& other);
  RgbImage& operator=(const RgbImage& other);
  RgbImage(RgbImage&& other) noexcept;
  RgbImage& operator=(RgbImage&& other) noexcept;
  ~RgbImage() = default;

  int height() const noexcept { return height_; }
  int width() const noexcept { return width_; }
  bool empty() const noexcept { return height_ == 0 || width_ == 0; }
  std::size_t row_bytes() const noexcept { return static_cast<std::size_t>(width_) * 3; }
  std::size_t size_bytes() const noexcept { return row_bytes() * static_cast<std::size_t>(height_); }

  std::uint8_t* data() noexcept { return pixels_.get(); }
  const std::uint8_t* data() const noexcept { return pixels_.get(); }
  std::uint8_t* row(int y) noexcept { return pixels_.get() + row_bytes() * static_cast<std::size_t>(y); }
  const std::uint8_t* row(int y) const noexcept {
    return pixels_.get() + row_bytes() * static_cast<std::size_t>(y);
  }
  std::span<const std::uint8_t> pixels() const noexcept { return {pixels_.get(), size_bytes()}; }
  std::span<std::uint8_t> pixels() noexcept { return {pixels_.get(), size_bytes()}; }

 private:
  int height_ = 0;
  int width_ = 0;
  std::unique_ptr<std::uint8_t[]> pixels_;
};

enum class PixelFormat { RGB, BGR, RGBA, BGRA, GRAY };

// Bytes per pixel of a format (3, 3, 4, 4, 1); throws Error(FS_INVALID_ARGUMENT) for a value
// outside the enum.
int bytes_per_pixel(PixelFormat format);
// "RGB", "BGR", "RGBA", "BGRA", "GRAY" (or "PixelFormat(<n>)" for a value outside the enum).
std::string format_name(PixelFormat format);

// Caller-owned pixels: `height` rows of `width` pixels, row y starting at data + y * stride.
// stride 0 means tightly packed (width * bytes_per_pixel(format)).
struct ImageView {
  const std::uint8_t* data = nullptr;
  int height = 0;
  int width = 0;
  std::size_t stride = 0;
  PixelFormat format = PixelFormat::RGB;
};

// The view's pixels as RGB: BGR(A) swapped, alpha dropped (like numpy's array[:, :, :3]), gray
// repeated in all three channels. Refusals: a null pointer, a negative or huge size, an unknown
// format, a stride smaller than one row -> FS_INVALID_ARGUMENT; a zero height or width ->
// FS_INVALID_INPUT (as the Python runtime's "expected a non-empty image").
RgbImage to_rgb(const ImageView& view);

}  // namespace frozenseg::image
