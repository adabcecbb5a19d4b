// SHA-256 (FIPS 180-4), self-contained: the manifest pins every graph, the BPE file and each
// external-data file by the hex digest Python's hashlib.sha256 gives.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "frozenseg/frozenseg.h"

namespace frozenseg {

// Incremental hasher: update() any number of times, then digest() once. Not thread-safe (one
// object per thread); the free functions below are. Uses the CPU's SHA extensions when it has them.
class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;
  enum class Kernel { fastest, portable };  // portable: for tests of the plain C++ path

  explicit Sha256(Kernel kernel = Kernel::fastest) noexcept;
  // Whether Kernel::fastest uses the SHA extensions on this CPU.
  static bool hardware_accelerated() noexcept;
  void update(std::span<const std::byte> data) noexcept;
  void update(std::string_view text) noexcept;
  // Finishes the hash; the object must not be updated afterwards (reset() starts over).
  Digest digest() noexcept;
  void reset() noexcept;

 private:
  void compress(const std::uint8_t* blocks, std::size_t count) noexcept;

  bool accelerated_ = false;
  std::array<std::uint32_t, 8> state_{};
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

// Lower-case hex, as hashlib's hexdigest().
std::string to_hex(std::span<const std::uint8_t> bytes);

std::string sha256_hex(std::span<const std::byte> data);
std::string sha256_hex(std::string_view text);

// The file's digest, read in 1 MiB chunks (graphs are hundreds of MB). Throws frozenseg::Error
// with `on_error` (FS_ARTIFACT_ERROR by default) when the file cannot be read.
std::string sha256_file(const std::filesystem::path& path, fs_status on_error = FS_ARTIFACT_ERROR);

}  // namespace frozenseg
