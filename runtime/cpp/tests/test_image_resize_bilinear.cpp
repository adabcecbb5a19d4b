// resize_bilinear against ops.py resize_bilinear (itself checked against torch's
// F.interpolate(align_corners=False)): within 1e-5 everywhere sampled, and bit for bit (sha256),
// whatever the thread count.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/resize_bilinear.hpp"
#include "test_image_support.hpp"

namespace frozenseg::image {
namespace {

using testing::cases;
using testing::sha256_of;

// make_image_cases.py bilinear_input: ((c*131 + h*37 + w*11) % 97 - 48) / 8, exact in float32.
std::vector<float> bilinear_input(int c, int h, int w) {
  std::vector<float> x(static_cast<std::size_t>(c) * h * w);
  std::size_t i = 0;
  for (int ci = 0; ci < c; ++ci) {
    for (int hi = 0; hi < h; ++hi) {
      for (int wi = 0; wi < w; ++wi) {
        x[i++] = static_cast<float>((ci * 131 + hi * 37 + wi * 11) % 97 - 48) / 8.0f;
      }
    }
  }
  return x;
}

TEST(ResizeBilinear, MatchesOpsPyWithin1e5AndBitForBit) {
  for (const auto& c : cases().at("resize_bilinear")) {
    const auto in = c.at("input").get<std::vector<int>>();
    const auto size = c.at("size").get<std::vector<int>>();
    const std::string what = "(" + std::to_string(in[0]) + ", " + std::to_string(in[1]) + ", " +
                             std::to_string(in[2]) + ") -> " + std::to_string(size[0]) + " x " +
                             std::to_string(size[1]);
    const auto x = bilinear_input(in[0], in[1], in[2]);
    for (unsigned threads : {1u, 3u}) {
      const auto out = resize_bilinear(x, static_cast<std::size_t>(in[0]), in[1], in[2], size[0],
                                       size[1], threads);
      testing::expect_close_to_summary(out, c.at("result"), 1e-5, what);
      EXPECT_EQ(sha256_of(out), c.at("result").at("sha256").get<std::string>())
          << what << " with " << threads << " threads";
    }
  }
}

TEST(ResizeBilinear, StridedCropEqualsResizingACopiedCrop) {
  const auto x = bilinear_input(3, 20, 30);  // crop the top-left 13 x 17 of each plane
  std::vector<float> crop;
  for (int c = 0; c < 3; ++c) {
    for (int r = 0; r < 13; ++r) {
      const float* row = x.data() + (c * 20 + r) * 30;
      crop.insert(crop.end(), row, row + 17);
    }
  }
  for (auto [oh, ow] : {std::pair{40, 50}, std::pair{13, 9}, std::pair{13, 17}, std::pair{5, 17}}) {
    const auto expected = resize_bilinear(crop, 3, 13, 17, oh, ow);
    std::vector<float> out(expected.size());
    resize_bilinear_strided(x.data(), 3, 20 * 30, 30, 13, 17, out.data(), oh, ow, 2);
    EXPECT_EQ(out, expected) << oh << " x " << ow;
  }
  std::vector<float> out(3 * 4);
  EXPECT_THROW(resize_bilinear_strided(x.data(), 3, 20 * 30, 16, 13, 17, out.data(), 2, 2), Error);
  EXPECT_THROW(resize_bilinear_strided(x.data(), 3, 100, 30, 13, 17, out.data(), 2, 2), Error);
}

TEST(ResizeBilinear, ConstantPlanesStayConstant) {
  const std::vector<float> x(2 * 9 * 13, 2.5f);
  const auto out = resize_bilinear(x, 2, 9, 13, 31, 5);
  for (float v : out) ASSERT_EQ(v, 2.5f);
}

TEST(ResizeBilinear, RefusesWrongSizes) {
  const std::vector<float> x(12, 0.0f);
  std::vector<float> out(8);
  EXPECT_THROW(resize_bilinear(x, 1, 3, 4, 0, 2), Error);
  EXPECT_THROW(resize_bilinear(x, 1, 3, 3, 2, 2), Error);           // 9 floats expected
  EXPECT_THROW(resize_bilinear(x, 1, 3, 4, out, 3, 3), Error);       // 9 floats of output
  try {
    resize_bilinear(x, 1, 3, 4, -1, 2);
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_ARGUMENT);
  }
  EXPECT_TRUE(resize_bilinear(std::span<const float>{}, 0, 3, 4, 2, 2).empty());
}

}  // namespace
}  // namespace frozenseg::image
