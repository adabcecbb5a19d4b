// Whole-file reading: exact bytes, empty files, special files, and errors that name the file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "common/file.hpp"

namespace fs = std::filesystem;

namespace {

fs::path temp_file(const std::string& name, const std::string& content) {
  const fs::path path =
      fs::temp_directory_path() / ("frozenseg_test_file_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

}  // namespace

TEST(ReadFile, ExactBytesIncludingNulAndHighBytes) {
  const std::string content("a\0b\xff\n\r\nend", 10);
  const fs::path path = temp_file("bytes", content);
  EXPECT_EQ(frozenseg::read_file_text(path), content);
  const auto bytes = frozenseg::read_file_bytes(path);
  ASSERT_EQ(bytes.size(), content.size());
  EXPECT_EQ(bytes[3], std::byte{0xff});
  fs::remove(path);
}

TEST(ReadFile, EmptyFile) {
  const fs::path path = temp_file("empty", "");
  EXPECT_TRUE(frozenseg::read_file_text(path).empty());
  EXPECT_TRUE(frozenseg::read_file_bytes(path).empty());
  fs::remove(path);
}

TEST(ReadFile, FileWhoseReportedSizeIsZero) {
  // /proc files report size 0 but have content: reading goes to the end, not to file_size().
  const std::string text = frozenseg::read_file_text("/proc/self/status");
  EXPECT_NE(text.find("Name:"), std::string::npos);
}

TEST(ReadFile, MissingFileSaysSoWithTheChosenStatus) {
  try {
    frozenseg::read_file_text("/no/such/manifest.json");
    FAIL() << "expected frozenseg::Error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_ARTIFACT_ERROR);
    EXPECT_EQ(std::string(e.what()), "cannot read /no/such/manifest.json: no such file");
  }
  try {
    frozenseg::read_file_bytes("/no/such/image.png", FS_INVALID_INPUT);
    FAIL() << "expected frozenseg::Error";
  } catch (const frozenseg::Error& e) {
    EXPECT_EQ(e.status(), FS_INVALID_INPUT);
  }
}

TEST(ReadFile, DirectoryIsRefused) {
  try {
    frozenseg::read_file_bytes(fs::temp_directory_path());
    FAIL() << "expected frozenseg::Error";
  } catch (const frozenseg::Error& e) {
    EXPECT_NE(std::string(e.what()).find("it is a directory"), std::string::npos) << e.what();
  }
}
