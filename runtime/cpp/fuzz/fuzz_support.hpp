// What the fuzz targets share. The library refuses bad input by throwing frozenseg::Error with a
// user-facing status: that is an answer, not a finding. Everything else is a finding and is left
// to escape (libFuzzer reports an uncaught exception as a crash): another exception type, an
// Error whose status says "internal error (please report)", a sanitizer report, a leak.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

#include "common/error.hpp"

namespace frozenseg::fuzz {

template <typename Parse>
int run(Parse&& parse) {
  try {
    parse();
  } catch (const frozenseg::Error& e) {
    if (e.status() == FS_INTERNAL_ERROR || e.status() == FS_OK) throw;
  }
  return 0;
}

inline std::span<const std::uint8_t> as_bytes(const std::uint8_t* data, std::size_t size) {
  return {data, size};
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A folder of this process's own (libFuzzer's -jobs runs several at once), removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/frozenseg-fuzz-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("frozenseg fuzz: mkdtemp");
      std::abort();
    }
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// The fuzz input as a file, for the parsers that take a path.
inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::perror("frozenseg fuzz: cannot write the input file");
    std::abort();
  }
}

}  // namespace frozenseg::fuzz
