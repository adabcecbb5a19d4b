// EXIF orientation parsing (Pillow's rules) and the eight transposes, on hand-made blocks; the
// fixtures of test_image_loading check the same against Pillow itself.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "image/exif.hpp"

namespace frozenseg::image {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, unsigned v, bool big) {
  if (big) {
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
  } else {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
  }
}

void put32(Bytes& b, std::uint32_t v, bool big) {
  if (big) {
    put16(b, v >> 16, true);
    put16(b, v & 0xFFFF, true);
  } else {
    put16(b, v & 0xFFFF, false);
    put16(b, v >> 16, false);
  }
}

struct Entry {
  unsigned tag, type;
  std::uint32_t count;
  Bytes value;  // 4 bytes, already in the block's order
};

Bytes tiff(const std::vector<Entry>& entries, bool big = false, const Bytes& tail = {}) {
  Bytes b = big ? Bytes{'M', 'M', 0, 42} : Bytes{'I', 'I', 42, 0};
  put32(b, 8, big);
  put16(b, static_cast<unsigned>(entries.size()), big);
  for (const auto& e : entries) {
    put16(b, e.tag, big);
    put16(b, e.type, big);
    put32(b, e.count, big);
    b.insert(b.end(), e.value.begin(), e.value.end());
  }
  put32(b, 0, big);
  b.insert(b.end(), tail.begin(), tail.end());
  return b;
}

Bytes short_value(unsigned v, bool big = false) {
  Bytes b;
  put16(b, v, big);
  put16(b, 0, big);
  return b;
}

TEST(Exif, ShortOrientationInBothByteOrders) {
  for (bool big : {false, true}) {
    const ExifInfo info = parse_exif(tiff({{0x0112, 3, 1, short_value(6, big)}}, big));
    EXPECT_TRUE(info.orientation_present);
    EXPECT_EQ(info.orientation, 6);
    EXPECT_TRUE(info.header_error.empty());
  }
}

TEST(Exif, PrefixesAreStrippedUpToTwice) {
  Bytes block = {'E', 'x', 'i', 'f', 0, 0, 'E', 'x', 'i', 'f', 0, 0};
  const Bytes t = tiff({{0x0112, 3, 1, short_value(3)}});
  block.insert(block.end(), t.begin(), t.end());
  EXPECT_EQ(parse_exif(block).orientation, 3);
}

TEST(Exif, ValueTypesAsPillowReadsThem) {
  Bytes long_value;
  put32(long_value, 8, false);
  EXPECT_EQ(parse_exif(tiff({{0x0112, 4, 1, long_value}})).orientation, 8);
  // BYTE and UNDEFINED values are bytes in Pillow: present, but never an orientation.
  const ExifInfo as_byte = parse_exif(tiff({{0x0112, 1, 1, {6, 0, 0, 0}}}));
  EXPECT_TRUE(as_byte.orientation_present);
  EXPECT_FALSE(as_byte.orientation.has_value());
  // Count 2: Pillow keeps the first value of a tag specified with one.
  Bytes two;
  put16(two, 5, false);
  put16(two, 1, false);
  EXPECT_EQ(parse_exif(tiff({{0x0112, 3, 2, two}})).orientation, 5);
  // RATIONAL 12/2 stored after the IFD (offset 26).
  Bytes offset, rational;
  put32(offset, 26, false);
  put32(rational, 12, false);
  put32(rational, 2, false);
  EXPECT_EQ(parse_exif(tiff({{0x0112, 5, 1, offset}}, false, rational)).orientation, 6);
  Bytes fraction;
  put32(fraction, 13, false);
  put32(fraction, 2, false);
  EXPECT_FALSE(parse_exif(tiff({{0x0112, 5, 1, offset}}, false, fraction)).orientation);
  // An unknown type is skipped: not present.
  EXPECT_FALSE(parse_exif(tiff({{0x0112, 99, 1, short_value(6)}})).orientation_present);
}

TEST(Exif, FirstStoredEntryWins) {
  const ExifInfo info = parse_exif(
      tiff({{0x0112, 3, 1, short_value(6)}, {0x0112, 3, 1, short_value(8)}}));
  EXPECT_EQ(info.orientation, 6);
  // A first entry of an unknown type is not stored, so the second one counts.
  EXPECT_EQ(parse_exif(tiff({{0x0112, 77, 1, short_value(6)}, {0x0112, 3, 1, short_value(8)}}))
                .orientation,
            8);
}

TEST(Exif, DamageKeepsWhatCameBefore) {
  Bytes t = tiff({{0x0112, 3, 1, short_value(7)}, {0x0100, 3, 1, short_value(1)}});
  t.erase(t.end() - 10, t.end());  // cut inside the second entry
  EXPECT_EQ(parse_exif(t).orientation, 7);
  Bytes offset;
  put32(offset, 5000, false);  // out-of-line data past the end ends the IFD
  EXPECT_FALSE(parse_exif(tiff({{0x0110, 2, 20, offset}, {0x0112, 3, 1, short_value(7)}}))
                   .orientation_present);
  EXPECT_FALSE(parse_exif(Bytes{'I', 'I', 42, 0, 200, 0, 0, 0}).orientation_present);
}

TEST(Exif, HeadersPillowRaisesOn) {
  EXPECT_FALSE(parse_exif(Bytes{'N', 'O', 'T', 'A', 'T', 'I', 'F', 'F'}).header_error.empty());
  EXPECT_FALSE(parse_exif(Bytes{'I', 'I', 42, 0, 8}).header_error.empty());  // short
  EXPECT_FALSE(parse_exif(Bytes{'I', 'I', 43, 0, 8, 0, 0, 0}).header_error.empty());  // BigTIFF
  EXPECT_TRUE(parse_exif(Bytes{'E', 'x', 'i', 'f', 0, 0}).header_error.empty());      // empty
  EXPECT_TRUE(parse_exif(Bytes{'M', 'M', 42, 0, 0, 0, 0, 8, 0, 0}).header_error.empty());
}

TEST(Exif, XmpOrientation) {
  auto xmp = [](const std::string& s) {
    return xmp_orientation(Bytes(s.begin(), s.end()));
  };
  EXPECT_EQ(xmp("<rdf tiff:Orientation=\"6\"/>"), 6);
  EXPECT_EQ(xmp("<tiff:Orientation>3</tiff:Orientation>"), 3);
  EXPECT_EQ(xmp("tiff:Orientation='6' tiff:Orientation>8"), 8);
  EXPECT_FALSE(xmp("tiff:Orientation=\"x\"").has_value());
  EXPECT_FALSE(xmp("").has_value());
}

// 2 x 3 image whose pixel (y, x) is (y, x, 0).
RgbImage numbered() {
  RgbImage image(2, 3);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 3; ++x) {
      std::uint8_t* p = image.row(y) + 3 * x;
      p[0] = static_cast<std::uint8_t>(y);
      p[1] = static_cast<std::uint8_t>(x);
      p[2] = 0;
    }
  }
  return image;
}

// (source y, source x) of every output pixel, row by row.
std::vector<std::pair<int, int>> sources(const RgbImage& image) {
  std::vector<std::pair<int, int>> out;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) out.emplace_back(image.row(y)[3 * x], image.row(y)[3 * x + 1]);
  }
  return out;
}

TEST(Exif, TransposesMatchPillow) {
  using V = std::vector<std::pair<int, int>>;
  // Source:  (0,0) (0,1) (0,2)
  //          (1,0) (1,1) (1,2)
  EXPECT_EQ(sources(apply_orientation(numbered(), 1)), (V{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}}));
  EXPECT_EQ(sources(apply_orientation(numbered(), 2)), (V{{0, 2}, {0, 1}, {0, 0}, {1, 2}, {1, 1}, {1, 0}}));
  EXPECT_EQ(sources(apply_orientation(numbered(), 3)), (V{{1, 2}, {1, 1}, {1, 0}, {0, 2}, {0, 1}, {0, 0}}));
  EXPECT_EQ(sources(apply_orientation(numbered(), 4)), (V{{1, 0}, {1, 1}, {1, 2}, {0, 0}, {0, 1}, {0, 2}}));
  // 3 x 2 results.
  EXPECT_EQ(sources(apply_orientation(numbered(), 5)), (V{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}}));
  EXPECT_EQ(sources(apply_orientation(numbered(), 6)), (V{{1, 0}, {0, 0}, {1, 1}, {0, 1}, {1, 2}, {0, 2}}));
  EXPECT_EQ(sources(apply_orientation(numbered(), 7)), (V{{1, 2}, {0, 2}, {1, 1}, {0, 1}, {1, 0}, {0, 0}}));
  EXPECT_EQ(sources(apply_orientation(numbered(), 8)), (V{{0, 2}, {1, 2}, {0, 1}, {1, 1}, {0, 0}, {1, 0}}));
  EXPECT_EQ(apply_orientation(numbered(), 6).height(), 3);
  EXPECT_EQ(sources(apply_orientation(numbered(), 0)), sources(numbered()));
}

}  // namespace
}  // namespace frozenseg::image
