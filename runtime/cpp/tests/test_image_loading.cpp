// load_image against the Python runtime's load_image: the same pixels (sha256 of the decoded
// array) for every PNG colour type / bit depth / interlace, Pillow-written JPEGs (baseline,
// progressive, restart markers, RGB, gray, CMYK), every EXIF orientation and the metadata Pillow
// reads it from; refusals where Python refuses.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "image/loading.hpp"
#include "test_image_support.hpp"

namespace frozenseg::image {
namespace {

using testing::cases;
using testing::fixture_dir;
using testing::fixture_path;
using testing::sha256_of;

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

LoadOptions options_of(const nlohmann::json& c) {
  LoadOptions options;
  if (c.contains("max_pixels")) options.max_pixels = c.at("max_pixels").get<std::uint64_t>();
  return options;
}

// Formats the Python runtime reads through Pillow and this runtime refuses on purpose.
bool unsupported_here(const std::string& file) { return file.ends_with(".bmp"); }

TEST(ImageLoading, DecodedPixelsEqualPythonsForEveryFixture) {
  int compared = 0;
  for (const auto& c : cases().at("loading")) {
    const auto file = c.at("file").get<std::string>();
    if (!c.contains("sha256") || unsupported_here(file)) continue;
    SCOPED_TRACE(file + " (" + c.at("note").get<std::string>() + ")");
    RgbImage image;
    ASSERT_NO_THROW(image = load_image(fixture_path(file), options_of(c)));
    const auto shape = c.at("shape").get<std::vector<int>>();
    EXPECT_EQ(image.height(), shape.at(0));
    EXPECT_EQ(image.width(), shape.at(1));
    EXPECT_EQ(sha256_of(image), c.at("sha256").get<std::string>());
    ++compared;
  }
  EXPECT_GE(compared, 60);
}

TEST(ImageLoading, BytesGiveTheSamePixelsAsTheFile) {
  for (const std::string file : {"rgba16.png", "progressive_420.jpg", "exif_6.jpg"}) {
    const auto bytes = read_bytes(fixture_dir() / file);
    EXPECT_EQ(sha256_of(load_image_bytes(bytes)), sha256_of(load_image(fixture_dir() / file)))
        << file;
  }
}

TEST(ImageLoading, RefusesWherePythonRefuses) {
  int refused = 0;
  for (const auto& c : cases().at("loading")) {
    if (!c.contains("error")) continue;
    const auto file = c.at("file").get<std::string>();
    SCOPED_TRACE(file + ": Python says: " + c.at("error").get<std::string>());
    try {
      load_image(fixture_path(file), options_of(c));
      ADD_FAILURE() << "loaded, but Python refuses it";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), FS_INVALID_INPUT);
      const std::string message = e.what();
      const std::string python = c.at("error").get<std::string>();
      if (python.find("truncated") != std::string::npos) {
        EXPECT_NE(message.find("image file is truncated"), std::string::npos) << message;
      }
      if (python.rfind("cannot decode image", 0) == 0) {
        EXPECT_EQ(message.rfind("cannot decode image " + (fixture_dir() / file).string() + ": ", 0), 0u)
            << message;
      }
      if (python.rfind("expected an image of at most", 0) == 0) {
        EXPECT_EQ(message.rfind("expected an image of at most 100 pixels", 0), 0u) << message;
      }
    }
    ++refused;
  }
  EXPECT_GE(refused, 10);
}

TEST(ImageLoading, RefusesBmpThatPythonReadsWithAClearMessage) {
  try {
    load_image(fixture_dir() / "small.bmp");
    FAIL() << "BMP decoded";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_NE(std::string(e.what()).find("BMP image, which the C++ runtime does not read"),
              std::string::npos)
        << e.what();
  }
}

TEST(ImageLoading, SpecificDamageMessages) {
  auto message_of = [](const std::string& file) -> std::string {
    try {
      load_image(fixture_dir() / file);
    } catch (const Error& e) {
      return e.what();
    }
    return "(loaded)";
  };
  EXPECT_NE(message_of("bad_text_crc.png").find("bad header checksum in tEXt"), std::string::npos);
  EXPECT_NE(message_of("exif_bad_header.png").find("not a TIFF file"), std::string::npos);
  EXPECT_NE(message_of("exif_bad_header_dpi.jpg").find("not a TIFF file"), std::string::npos);
  EXPECT_NE(message_of("not_an_image.png").find("not an image format this runtime recognises"),
            std::string::npos);
  EXPECT_NE(message_of("empty.jpg").find("not an image format"), std::string::npos);
}

std::string error_of(const std::filesystem::path& path, fs_status* status,
                     const LoadOptions& options = {}) {
  try {
    load_image(path, options);
  } catch (const Error& e) {
    *status = e.status();
    return e.what();
  }
  return "(loaded)";
}

TEST(ImageLoading, PathRefusalsSayWhatIsWrong) {
  fs_status status = FS_OK;
  EXPECT_EQ(error_of("", &status), "expected an image path, received an empty string");
  EXPECT_EQ(status, FS_INVALID_INPUT);
  EXPECT_EQ(error_of("   ", &status), "expected an image path, received an empty string");
  EXPECT_EQ(error_of("/nonexistent/x.png", &status),
            "expected an image file, received '/nonexistent/x.png', which does not exist or is "
            "not a file; check the path");
  EXPECT_EQ(status, FS_INVALID_INPUT);
  EXPECT_EQ(error_of(fixture_dir(), &status),
            "expected an image file, received the folder " + fixture_dir().string() +
                "; pass one of its images");
  EXPECT_EQ(status, FS_INVALID_INPUT);
}

TEST(ImageLoading, PixelLimitIsCheckedOnTheHeaderAndConfigurable) {
  fs_status status = FS_OK;
  const auto astronaut = testing::repo_root() / "samples" / "astronaut.jpg";
  const std::string message = error_of(astronaut, &status, LoadOptions{512 * 512 - 1});
  EXPECT_EQ(status, FS_INVALID_INPUT);
  EXPECT_EQ(message,
            "expected an image of at most 262,143 pixels (the limit that guards against "
            "decompression bombs), received image " + astronaut.string() +
                " of 512 x 512 = 262,144 pixels; if the image is genuine, raise the limit with "
                "LoadOptions::max_pixels = 262144 (std::nullopt: no limit), or downscale the image");
  EXPECT_NO_THROW(load_image(astronaut, LoadOptions{512 * 512}));
  EXPECT_NO_THROW(load_image(astronaut, LoadOptions{std::nullopt}));
  EXPECT_EQ(kDefaultMaxImagePixels, 178956970u);
}

TEST(ImageLoading, PixelLimitRefusesABombBeforeDecoding) {
  // A valid PNG header declaring 60000 x 60000 pixels and an empty IDAT: refused on the header
  // (decoding would fail on the missing data instead).
  std::vector<std::uint8_t> bomb = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                    'I', 'H', 'D', 'R', 0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60,
                                    8, 2, 0, 0, 0};
  const auto crc = static_cast<std::uint32_t>(crc32(0L, bomb.data() + 12, 17));
  for (int shift = 24; shift >= 0; shift -= 8) bomb.push_back(static_cast<std::uint8_t>(crc >> shift));
  const std::uint8_t idat[] = {0, 0, 0, 0, 'I', 'D', 'A', 'T', 0x35, 0xaf, 0x06, 0x1e};
  bomb.insert(bomb.end(), std::begin(idat), std::end(idat));
  try {
    load_image_bytes(bomb);
    FAIL() << "decoded a bomb";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_NE(std::string(e.what()).find("received image from the given bytes of 60000 x 60000 = "
                                         "3,600,000,000 pixels"),
              std::string::npos)
        << e.what();
  }
}

TEST(ImageLoading, ZeroPixelLimitIsAnInvalidArgument) {
  fs_status status = FS_OK;
  EXPECT_EQ(error_of(fixture_dir() / "rgb8.png", &status, LoadOptions{0}),
            "expected max_pixels as a positive integer or std::nullopt (no limit), received 0");
  EXPECT_EQ(status, FS_INVALID_ARGUMENT);
}

TEST(ImageLoading, HomeDirectoryIsExpanded) {
  const char* home = std::getenv("HOME");
  if (home == nullptr) GTEST_SKIP() << "HOME is not set";
  fs_status status = FS_OK;
  const std::string message = error_of("~/surely-not-here-frozenseg.png", &status);
  EXPECT_NE(message.find(std::string(home) + "/surely-not-here-frozenseg.png"), std::string::npos)
      << message;
}

TEST(ImageLoading, EmptyBytesAreNotAnImage) {
  try {
    load_image_bytes({});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
    EXPECT_EQ(std::string(e.what()),
              "cannot decode image from the given bytes: not an image format this runtime "
              "recognises; expected JPEG or PNG");
  }
}

}  // namespace
}  // namespace frozenseg::image
