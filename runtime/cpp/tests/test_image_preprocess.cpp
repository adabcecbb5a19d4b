// preprocess against the Python runtime's preprocess: sizes equal, CLIP and SAM inputs within
// 1e-6 of Python's (and bit for bit), the detectron2 resize rule and its refusal.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/error.hpp"
#include "image/loading.hpp"
#include "image/preprocess.hpp"
#include "test_image_support.hpp"

namespace frozenseg::image {
namespace {

using testing::cases;
using testing::fixture_path;
using testing::sha256_of;

PreprocessConstants constants_of(const nlohmann::json& j) {
  PreprocessConstants c;
  c.clip_mean = j.at("clip_mean").get<std::array<double, 3>>();
  c.clip_std = j.at("clip_std").get<std::array<double, 3>>();
  c.sam_mean = j.at("sam_mean").get<std::array<double, 3>>();
  c.sam_std = j.at("sam_std").get<std::array<double, 3>>();
  c.pad_multiple = j.at("pad_multiple").get<int>();
  c.sam_size = j.at("sam_size").get<int>();
  c.resize_short = j.at("resize_short").get<int>();
  c.resize_max = j.at("resize_max").get<int>();
  return c;
}

ImageSize size_of(const nlohmann::json& j) { return {j.at(0).get<int>(), j.at(1).get<int>()}; }

TEST(Preprocess, MatchesPythonWithin1e6AndBitForBit) {
  std::map<std::string, RgbImage> images;
  int compared = 0;
  for (const auto& c : cases().at("preprocess")) {
    const auto source = c.at("source").get<std::string>();
    if (!images.contains(source)) images.emplace(source, load_image(fixture_path(source)));
    const PreprocessConstants constants = constants_of(c.at("constants"));
    const bool resize = c.at("resize").get<bool>();
    const PreparedImage p =
        resize ? preprocess_with_constants(images.at(source), constants)
               : preprocess(images.at(source), constants, std::nullopt);
    const std::string what = source + (resize ? " resized" : " own size") + ", sam " +
                             std::to_string(constants.sam_size);
    EXPECT_EQ(p.image_size, size_of(c.at("image_size"))) << what;
    EXPECT_EQ(p.padded_size, size_of(c.at("padded_size"))) << what;
    EXPECT_EQ(p.output_size, size_of(c.at("output_size"))) << what;
    const auto clip_shape = c.at("clip_input").at("shape").get<std::vector<std::int64_t>>();
    const auto sam_shape = c.at("sam_input").at("shape").get<std::vector<std::int64_t>>();
    const auto clip = p.clip_shape();
    const auto sam = p.sam_shape();
    EXPECT_EQ(std::vector<std::int64_t>(clip.begin(), clip.end()), clip_shape) << what;
    EXPECT_EQ(std::vector<std::int64_t>(sam.begin(), sam.end()), sam_shape) << what;
    testing::expect_close_to_summary(p.clip_input, c.at("clip_input"), 1e-6, what + " clip");
    testing::expect_close_to_summary(p.sam_input, c.at("sam_input"), 1e-6, what + " sam");
    EXPECT_EQ(sha256_of(p.clip_input), c.at("clip_input").at("sha256").get<std::string>()) << what;
    EXPECT_EQ(sha256_of(p.sam_input), c.at("sam_input").at("sha256").get<std::string>()) << what;
    ++compared;
  }
  EXPECT_GE(compared, 6);
}

TEST(Preprocess, ResizedShapeFollowsDetectron2) {
  EXPECT_EQ(resized_shape(480, 640, 800, 1333), (ImageSize{800, 1067}));
  EXPECT_EQ(resized_shape(640, 480, 800, 1333), (ImageSize{1067, 800}));
  EXPECT_EQ(resized_shape(512, 512, 800, 1333), (ImageSize{800, 800}));
  EXPECT_EQ(resized_shape(100, 1000, 800, 1333), (ImageSize{133, 1333}));  // capped
  EXPECT_EQ(resized_shape(1, 3000, 800, 1333), (ImageSize{0, 1333}));
}

TEST(Preprocess, ExtremeAspectRatioIsRefusedLikePython) {
  const auto& c = cases().at("extreme_aspect");
  const RgbImage image(c.at("shape").at(0).get<int>(), c.at("shape").at(1).get<int>());
  try {
    resize_image(image, c.at("resize").at(0).get<int>(), c.at("resize").at(1).get<int>());
    FAIL() << "resized";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    const std::string python = c.at("error").get<std::string>();
    const std::string common = python.substr(0, python.find("; crop or pad it"));
    EXPECT_EQ(std::string(e.what()).rfind(common, 0), 0u) << e.what();
  }
}

TEST(Preprocess, OutputSizeDefaultsToTheOriginalAndCanBeGiven) {
  PreprocessConstants c;
  c.clip_mean = c.sam_mean = {127.5, 127.5, 127.5};
  c.clip_std = c.sam_std = {50.0, 50.0, 50.0};
  c.pad_multiple = 4;
  c.sam_size = 8;
  c.resize_short = 10;
  c.resize_max = 40;
  RgbImage image(5, 7);
  std::fill(image.data(), image.data() + image.size_bytes(), std::uint8_t{200});
  const PreparedImage p = preprocess_with_constants(image, c);
  EXPECT_EQ(p.image_size, (ImageSize{10, 14}));
  EXPECT_EQ(p.padded_size, (ImageSize{12, 16}));
  EXPECT_EQ(p.output_size, (ImageSize{5, 7}));
  EXPECT_FLOAT_EQ(p.clip_input[0], (200.0f - 127.5f) / 50.0f);
  EXPECT_FLOAT_EQ(p.clip_input[13], (200.0f - 127.5f) / 50.0f) << "last pixel of row 0";
  EXPECT_EQ(p.clip_input[14], 0.0f) << "right padding is zero";
  EXPECT_EQ(p.clip_input[16 * 11], 0.0f) << "bottom padding is zero";
  const PreparedImage q = preprocess(image, c, std::nullopt, ImageSize{50, 70});
  EXPECT_EQ(q.image_size, (ImageSize{5, 7}));
  EXPECT_EQ(q.output_size, (ImageSize{50, 70}));
}

TEST(Preprocess, RefusesEmptyImagesAndBadConstants) {
  PreprocessConstants c;
  c.sam_size = 8;
  try {
    prepare_image(RgbImage{}, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_EQ(std::string(e.what()), "expected a non-empty image, received shape (0, 0, 3)");
  }
  c.sam_size = 0;
  EXPECT_THROW(prepare_image(RgbImage(2, 2), c), Error);
}

TEST(Preprocess, PadBottomRight) {
  const std::vector<float> planes = {1, 2, 3, 4, 5, 6};  // 1 channel, 2 x 3
  ImageSize padded;
  const auto out = pad_bottom_right(planes, 1, {2, 3}, 4, padded);
  EXPECT_EQ(padded, (ImageSize{4, 4}));
  EXPECT_EQ(out, (std::vector<float>{1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(pad_bottom_right(planes, 1, {2, 3}, 1, padded), planes);
  EXPECT_EQ(padded, (ImageSize{2, 3}));
  EXPECT_THROW(pad_bottom_right(planes, 2, {2, 3}, 4, padded), Error);
}

}  // namespace
}  // namespace frozenseg::image
