// RgbImage and ImageView -> RGB: channel order, alpha dropped, gray repeated, strides honoured,
// refusals typed as the C API will report them.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/image.hpp"

namespace frozenseg::image {
namespace {

// 2 x 3 pixels, pixel (y, x) = (10y + x, 100 + 10y + x, 200 + 10y + x), in `format`, with
// `pad` junk bytes after each row.
std::vector<std::uint8_t> pixels_in(PixelFormat format, int pad) {
  std::vector<std::uint8_t> out;
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      const auto r = static_cast<std::uint8_t>(10 * y + x);
      const auto g = static_cast<std::uint8_t>(100 + 10 * y + x);
      const auto b = static_cast<std::uint8_t>(200 + 10 * y + x);
      switch (format) {
        case PixelFormat::RGB: out.insert(out.end(), {r, g, b}); break;
        case PixelFormat::BGR: out.insert(out.end(), {b, g, r}); break;
        case PixelFormat::RGBA: out.insert(out.end(), {r, g, b, 77}); break;
        case PixelFormat::BGRA: out.insert(out.end(), {b, g, r, 77}); break;
        case PixelFormat::GRAY: out.push_back(r); break;
      }
    }
    out.insert(out.end(), static_cast<std::size_t>(pad), 0xEE);
  }
  return out;
}

TEST(ImageView, EveryFormatConvertsToRgbWithAndWithoutPadding) {
  for (PixelFormat format : {PixelFormat::RGB, PixelFormat::BGR, PixelFormat::RGBA,
                             PixelFormat::BGRA, PixelFormat::GRAY}) {
    for (int pad : {0, 5}) {
      const auto data = pixels_in(format, pad);
      const std::size_t stride = pad == 0 ? 0 : 3 * bytes_per_pixel(format) + pad;
      const RgbImage rgb = to_rgb({data.data(), 2, 3, stride, format});
      ASSERT_EQ(rgb.height(), 2);
      ASSERT_EQ(rgb.width(), 3);
      for (int y = 0; y < 2; ++y) {
        for (int x = 0; x < 3; ++x) {
          const std::uint8_t* p = rgb.row(y) + 3 * x;
          const int r = 10 * y + x;
          SCOPED_TRACE(format_name(format) + " pad " + std::to_string(pad));
          if (format == PixelFormat::GRAY) {
            EXPECT_EQ(p[0], r);
            EXPECT_EQ(p[1], r);
            EXPECT_EQ(p[2], r);
          } else {
            EXPECT_EQ(p[0], r);
            EXPECT_EQ(p[1], 100 + r);
            EXPECT_EQ(p[2], 200 + r);
          }
        }
      }
    }
  }
}

fs_status status_of(const ImageView& view, std::string* message = nullptr) {
  try {
    to_rgb(view);
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.status();
  }
  return FS_OK;
}

TEST(ImageView, RefusalsAreTyped) {
  const std::vector<std::uint8_t> data(64, 1);
  std::string message;
  EXPECT_EQ(status_of({nullptr, 2, 3, 0, PixelFormat::RGB}, &message), FS_INVALID_ARGUMENT);
  EXPECT_NE(message.find("null pointer"), std::string::npos) << message;
  EXPECT_EQ(status_of({data.data(), 0, 3, 0, PixelFormat::RGB}, &message), FS_INVALID_INPUT);
  EXPECT_NE(message.find("expected a non-empty image"), std::string::npos) << message;
  EXPECT_EQ(status_of({data.data(), 2, 0, 0, PixelFormat::RGB}), FS_INVALID_INPUT);
  EXPECT_EQ(status_of({data.data(), -1, 3, 0, PixelFormat::RGB}), FS_INVALID_ARGUMENT);
  EXPECT_EQ(status_of({data.data(), 2, 3, 8, PixelFormat::RGB}, &message), FS_INVALID_ARGUMENT);
  EXPECT_NE(message.find("row stride of at least 9 bytes"), std::string::npos) << message;
  EXPECT_EQ(status_of({data.data(), 1 << 20, 1 << 20, 0, PixelFormat::GRAY}, &message),
            FS_INVALID_ARGUMENT);
  EXPECT_NE(message.find("of at most 4294967296 pixels"), std::string::npos) << message;
  EXPECT_EQ(status_of({data.data(), 2, 3, 0, static_cast<PixelFormat>(42)}, &message),
            FS_INVALID_ARGUMENT);
  EXPECT_NE(message.find("PixelFormat(42)"), std::string::npos) << message;
}

TEST(RgbImage, CopiesAreDeepAndMovesEmptyTheSource) {
  RgbImage a(2, 2);
  for (std::size_t i = 0; i < a.size_bytes(); ++i) a.data()[i] = static_cast<std::uint8_t>(i);
  RgbImage b = a;
  b.data()[0] = 99;
  EXPECT_EQ(a.data()[0], 0);
  RgbImage c = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(c.data()[5], 5);
  c = b;
  EXPECT_EQ(c.data()[0], 99);
  EXPECT_EQ(c.size_bytes(), 12u);
}

TEST(RgbImage, RefusesNonPositiveSizes) {
  EXPECT_THROW(RgbImage(0, 4), Error);
  EXPECT_THROW(RgbImage(4, -1), Error);
  try {
    RgbImage(70000, 70000);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_ARGUMENT);
  }
}

}  // namespace
}  // namespace frozenseg::image
