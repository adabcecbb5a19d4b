// pil_resize_bilinear against Pillow's Image.resize(..., Image.BILINEAR): identical bytes for
// down- and up-scaling, one axis or both, 1-pixel edges, and the real sample photo.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/error.hpp"
#include "image/loading.hpp"
#include "image/pil_resize.hpp"
#include "test_image_support.hpp"

namespace frozenseg::image {
namespace {

using testing::cases;
using testing::fixture_path;
using testing::sha256_of;

TEST(PilResize, IdenticalToPillowForEverySize) {
  std::map<std::string, RgbImage> sources;
  int compared = 0;
  for (const auto& c : cases().at("pil_resize")) {
    const auto source = c.at("source").get<std::string>();
    if (!sources.contains(source)) sources.emplace(source, load_image(fixture_path(source)));
    const int h = c.at("size").at(0).get<int>();
    const int w = c.at("size").at(1).get<int>();
    const RgbImage resized = pil_resize_bilinear(sources.at(source), h, w);
    ASSERT_EQ(resized.height(), h);
    ASSERT_EQ(resized.width(), w);
    EXPECT_EQ(sha256_of(resized), c.at("sha256").get<std::string>())
        << source << " -> " << h << " x " << w;
    ++compared;
  }
  EXPECT_GE(compared, 30);
}

TEST(PilResize, SameSizeIsACopy) {
  RgbImage image(3, 4);
  for (std::size_t i = 0; i < image.size_bytes(); ++i) image.data()[i] = static_cast<std::uint8_t>(i * 7);
  const RgbImage same = pil_resize_bilinear(image, 3, 4);
  EXPECT_EQ(sha256_of(same), sha256_of(image));
  EXPECT_NE(same.data(), image.data());
}

TEST(PilResize, ConstantImageStaysConstant) {
  RgbImage image(17, 23);
  for (std::size_t i = 0; i < image.size_bytes(); i += 3) {
    image.data()[i] = 0;
    image.data()[i + 1] = 128;
    image.data()[i + 2] = 255;
  }
  for (auto [h, w] : {std::pair{5, 7}, std::pair{40, 61}, std::pair{17, 3}}) {
    const RgbImage out = pil_resize_bilinear(image, h, w);
    for (std::size_t i = 0; i < out.size_bytes(); i += 3) {
      ASSERT_EQ(out.data()[i], 0);
      ASSERT_EQ(out.data()[i + 1], 128);
      ASSERT_EQ(out.data()[i + 2], 255);
    }
  }
}

TEST(PilResize, RefusesBadSizes) {
  const RgbImage image(2, 2);
  EXPECT_THROW(pil_resize_bilinear(image, 0, 3), Error);
  EXPECT_THROW(pil_resize_bilinear(RgbImage{}, 3, 3), Error);
}

}  // namespace
}  // namespace frozenseg::image
