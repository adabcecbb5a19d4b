// The one ZIP codec of numpy's .npz files (common/zip.hpp): both methods read back, numpy's own
// archives read, damage refused without throwing.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/file.hpp"
#include "common/zip.hpp"

namespace fs = std::filesystem;
using frozenseg::ZipMember;
using frozenseg::ZipMethod;

namespace {

const fs::path kData = fs::path(FS_SOURCE_DIR) / "runtime/cpp/tests/data";

std::vector<ZipMember> sample() {
  std::vector<ZipMember> members = {{"empty.npy", ""}, {"rows.npy", std::string(70000, 'r')}, {"key.npy", "key"}};
  for (int i = 0; i < 500; ++i) members[1].data[i * 131] = static_cast<char>(i);
  return members;
}

}  // namespace

TEST(CommonZip, BothMethodsReadBack) {
  for (const ZipMethod method : {ZipMethod::stored, ZipMethod::deflated}) {
    const auto back = frozenseg::read_zip(frozenseg::write_zip(sample(), method));
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ((*back)[i].name, sample()[i].name);
      EXPECT_EQ((*back)[i].data, sample()[i].data);
    }
  }
}

TEST(CommonZip, StoredIsNpSavezLayoutAndDeflatedIsSmaller) {
  const std::string stored = frozenseg::write_zip(sample(), ZipMethod::stored);
  EXPECT_EQ(stored.substr(0, 4), std::string("PK\x03\x04", 4));
  EXPECT_EQ(static_cast<unsigned char>(stored[8]), 0u);  // method: stored
  EXPECT_LT(frozenseg::write_zip(sample(), ZipMethod::deflated).size(), stored.size() / 4);
}

TEST(CommonZip, ReadsNumpysArchives) {
  for (const char* name : {"cache_python.npz", "cache_python_deflated.npz"}) {
    const auto members = frozenseg::read_zip(frozenseg::read_file_text(kData / name));
    ASSERT_TRUE(members.has_value()) << name;
    ASSERT_EQ(members->size(), 2u) << name;
    EXPECT_EQ((*members)[0].name, "rows.npy");
    EXPECT_EQ((*members)[1].name, "key.npy");
  }
}

TEST(CommonZip, DamageIsRefusedNotThrown) {
  const std::string good = frozenseg::write_zip(sample(), ZipMethod::stored);
  for (const std::string& bytes : {std::string(), std::string("not a zip"), good.substr(0, good.size() / 2),
                                   std::string("PK\x03\x04", 4) + std::string(40, '\0')}) {
    EXPECT_FALSE(frozenseg::read_zip(bytes).has_value());
  }
  std::string flipped = good;
  const std::size_t rows_data = 30 + 9 + 20 + 30 + 8 + 20;  // after the empty member and rows' header
  flipped[rows_data] ^= 1;
  EXPECT_FALSE(frozenseg::read_zip(flipped).has_value());
  EXPECT_EQ(frozenseg::crc32_of("123456789"), 0xCBF43926u);
}
